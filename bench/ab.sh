#!/usr/bin/env bash
# Before and after in one go: compares two checkouts' builds on the request
# path (the core in-process, plain CGI start, FastCGI behind nginx), each
# figure measured alternately or side by side in the same run.
#
#   bench/ab.sh BASE_CHECKOUT NEW_CHECKOUT [SECONDS]
#
# Each checkout must have been built with `scripts/build` and
# `swift build -c release --product pixelgate-bench`. Takes about 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(realpath "$1"); new=$(realpath "$2"); seconds=${3:-5}
work=$(mktemp -d /var/tmp/pixelgate-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
for size in 512 8192; do bench/query.sh "$size" > "$work/q$size"; done
# Installed copies, as bench/cgi.sh uses (the linker's own output file
# started measurably slower than any copy).
install -m 755 "$base/.build/glibc-2.28/pixelgate" "$work/pixelgate-base"
install -m 755 "$new/.build/glibc-2.28/pixelgate" "$work/pixelgate-new"

echo "## Core, CPU per event (A = base, B = new)"
echo
echo "\`bench/core-ab.py 9 200000 BASE NEW\`: \`pixelgate-bench profile 200000\`, 9 alternating rounds, median CPU time."
echo
bench/core-ab.py 9 200000 "$base/.build/release/pixelgate-bench" "$new/.build/release/pixelgate-bench" "" "$work/q512" "$work/q8192"
echo
echo "## Plain CGI start (A = base, B = new)"
echo
bench/cgi-ab.py 300 "$work/pixelgate-base" "$work/pixelgate-new"
echo
for which in base new; do
  echo "## FastCGI behind nginx: $which"
  echo
  bench/fastcgi.sh "$work/pixelgate-$which" "$seconds"
  echo
done
