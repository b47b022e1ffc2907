#!/usr/bin/env bash
# Memory of one FastCGI worker over many requests (BENCHMARKS.md d):
# pixelgate serve --workers 1 behind nginx, wrk driving it, the worker's
# resident set sampled every 100,000 requests.
#
#   bench/memory.sh PIXELGATE_BINARY [REQUESTS]
#
# Requests are counted from the spool: every line has the same length (the
# query, the write key, the time and id formats are fixed), so bytes ÷ line
# length is the number of events stored.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
total=${2:-1000000}
step=$((total / 10))
work=$(mktemp -d /var/tmp/pixelgate-memory-bench.XXXXXX)
serve=
wrkpid=
cleanup() {
  [ -n "$wrkpid" ] && kill "$wrkpid" 2>/dev/null || true
  [ -n "$serve" ] && kill "$serve" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT
cp /etc/nginx/fastcgi_params "$work/"
sed -e "s|@WORK@|$work|g" bench/nginx.conf > "$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon on;'
PIXELGATE_SPOOL_DIR="$work/spool" "$bin" serve --listen 127.0.0.1:19102 --workers 1 2>"$work/pixelgate.log" &
serve=$!
for _ in $(seq 100); do worker=$(pgrep -P "$serve" || true); [ -n "$worker" ] && break; sleep 0.05; done
q=$(bench/query.sh)
curl -s -o /dev/null "http://127.0.0.1:19180/pixel/v1/page?$q"
line=$(head -c 4096 "$work/spool/current.ndjson" | head -1 | wc -c)
rss() { awk '/VmRSS/ {print $2}' "/proc/$worker/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
stored() { stat -c %s "$work"/spool/*.ndjson | awk -v l="$line" '{ s += $1 } END { printf "%d", s / l }'; }

echo "| requests stored | worker RSS (MiB) |"
echo "|---|---|"
printf '| %d | %s |\n' 1 "$(mib "$(rss)")"
wrk -t2 -c16 -d3600s "http://127.0.0.1:19180/pixel/v1/page?$q" >/dev/null &
wrkpid=$!
next=$step
samples=()
while [ "$next" -le "$total" ]; do
  sleep 0.5
  n=$(stored)
  if [ "$n" -ge "$next" ]; then
    r=$(rss)
    samples+=("$r")
    printf '| %d | %s |\n' "$n" "$(mib "$r")"
    next=$((next + step))
  fi
done
kill "$wrkpid"; wrkpid=
lo=$(printf '%s\n' "${samples[@]}" | sort -n | head -1)
hi=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
echo
printf 'Lowest %s MiB, highest %s MiB over the samples (%d KiB apart); errors logged: %d.\n' \
  "$(mib "$lo")" "$(mib "$hi")" $((hi - lo)) "$(grep -c '"error"\|error:' "$work/pixelgate.log" || true)"
