#!/usr/bin/env bash
# Plain CGI, per request, with hyperfine (BENCHMARKS.md c, f): pixelgate as
# a CGI program writing to the spool against bench/c/cgi.c, a C program that
# only answers "OK", and bench/c/hello.swift, the same in Swift (the floor of
# any Swift program), all started with the same CGI environment. Three
# rounds of the three, interleaved, so a noisy spell hits them alike; the
# median of the rounds' medians is reported.
#
#   bench/cgi.sh PIXELGATE_BINARY
#
# Prints a Markdown table: medians, and pixelgate ÷ C, for the AMP sample
# query and for growing query sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /var/tmp/pixelgate-cgi-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Run an installed copy, as docs/install.md's step makes one: the linker's
# own output file under .build started measurably slower here than any copy.
install -m 755 "$1" "$work/pixelgate"
bin="$work/pixelgate"
cc -O2 -o "$work/cgi" bench/c/cgi.c
# Linked as scripts/build links pixelgate: static Swift runtime, libstdc++
# and unwinder from scripts/build's archive directory, glibc shared.
[ -e .build/static-link/libstdc++.a ] || scripts/build >/dev/null
swiftc -O -static-stdlib -L .build/static-link -Xlinker --no-export-dynamic -o "$work/hello" bench/c/hello.swift

echo "| query | C CGI program | Swift program answering OK | pixelgate | pixelgate ÷ C | pixelgate ÷ Swift floor |"
echo "|---|---|---|---|---|---|"
for size in 0 512 2048 8192 16000; do
  q=$(bench/query.sh "$size")
  # hyperfine passes its environment on: the commands run with exactly
  # these CGI variables and nothing else, without a shell or env(1) between.
  env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 \
    REMOTE_ADDR=127.0.0.1 HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64)" \
    REQUEST_URI="/pixel/v1/page?$q" QUERY_STRING="$q" PIXELGATE_SPOOL_DIR="$work/spool" \
    bash -c 'for round in 1 2 3; do
      hyperfine -N --warmup 20 --runs 150 --style none --export-json "$0/h$round.json" "$0/cgi" "$0/hello" "$1" >/dev/null 2>&1
    done' "$work" "$bin"
  python3 - "$work" "${#q}" "$size" <<'PY'
import json, statistics, sys
rounds = [json.load(open("%s/h%d.json" % (sys.argv[1], r)))["results"] for r in (1, 2, 3)]
c, s, p = (statistics.median(r[i]["median"] for r in rounds) * 1000 for i in range(3))
label = "AMP sample, %s B" % sys.argv[2] if sys.argv[3] == "0" else "%s B" % sys.argv[2]
print("| %s | %.2f ms | %.2f ms | %.2f ms | **%.2f×** | %.2f× |" % (label, c, s, p, p / c, p / s))
PY
done
lines=$(cat "$work"/spool/*.ndjson | wc -l)
echo
echo "Spool lines written by the pixelgate runs: $lines (every run, warm-ups included, stored its event)."
