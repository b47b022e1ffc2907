#!/usr/bin/env bash
# Instructions of one plain-CGI hit (callgrind's exact count, no noise), for
# each binary given: the AMP sample page, a Chrome agent, the spool sink, no
# settings file (PIXELGATE_CONFIG=none), into a spool a first hit made.
# Counts move by a few thousand from run to run (the random message id,
# the clock's digits), so each binary's is the median of 5 hits, the
# binaries taking turns.
#
#   bench/cgi-instructions.sh BINARY [BINARY…]
#
# Prints a Markdown row per binary: instructions, and the ratio to the first.
set -euo pipefail
cd "$(dirname "$0")/.."
query=$(bench/query.sh)
work=$(mktemp -d /var/tmp/pixelgate-cgi-ir.XXXXXX)
trap 'rm -rf "$work"' EXIT
first=""
declare -A counts
echo "| binary | instructions per CGI hit (median of 5) | ÷ first |"
echo "|---|---|---|"
. bench/lib.sh  # cgi_hit
n=0
for bin in "$@"; do n=$((n + 1)); cgi_hit "$work/spool-$n" "$bin" > /dev/null; counts[$n]=""; done
for _ in 1 2 3 4 5; do
  n=0
  for bin in "$@"; do
    n=$((n + 1))
    cgi_hit "$work/spool-$n" valgrind --tool=callgrind --callgrind-out-file="$work/out" "$bin" > /dev/null 2> "$work/log"
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/log")
    [ -n "$ir" ] || { cat "$work/log" >&2; exit 1; }
    counts[$n]+="$ir "
  done
done
n=0
for bin in "$@"; do
  n=$((n + 1))
  ir=$(tr ' ' '\n' <<<"${counts[$n]}" | grep . | sort -n | sed -n 3p)
  [ -n "$first" ] || first=$ir
  awk -v b="$bin" -v ir="$ir" -v f="$first" 'BEGIN { printf "| %s | %d | %.4f |\n", b, ir, ir / f }'
done
