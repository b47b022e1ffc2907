#!/usr/bin/env bash
# FastCGI behind nginx, measured with wrk from 127.0.0.1 (BENCHMARKS.md b, f).
#
#   bench/fastcgi.sh PIXELGATE_BINARY [SECONDS]
#
# One nginx (bench/nginx.conf) fronts, in the same run:
#   - empty_gif: nginx answering by itself, the ceiling of any backend;
#   - bench/c/responder.c under spawn-fcgi: the least a libfcgi responder does;
#   - pixelgate serve, spool sink, one connection per request;
#   - pixelgate serve --threads, with fastcgi_keep_conn and a keepalive pool.
# Each with 1 and 2 worker processes, then pixelgate at growing query sizes.
# Prints Markdown tables; every figure is the median of 3 wrk runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
seconds=${2:-5}
connections=32
threads=16
work=$(mktemp -d /var/tmp/pixelgate-fcgi-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  pkill -f "$work/responder" 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -o "$work/responder" bench/c/responder.c $(pkg-config --cflags --libs fcgi)
cp /etc/nginx/fastcgi_params "$work/"
sed -e "s|@WORK@|$work|g" bench/nginx.conf > "$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon on;'

wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listening on $1" >&2
  return 1
}

# Median requests/s of 3 wrk runs; fails on any answer that is not 2xx.
rate() {
  local url=$1 out all=()
  wrk -t2 -c"$connections" -d1s "$url" >/dev/null  # warm-up
  for _ in 1 2 3; do
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" "$url")
    if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $url:" >&2; echo "$out" >&2; return 1; fi
    all+=("$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")")
  done
  printf '%s\n' "${all[@]}" | sort -n | sed -n 2p
}

# A binary from before --threads existed (to compare releases) gets no
# kept-connection column.
kept=1
"$bin" --help 2>&1 | grep -q -- --threads || kept=0

start_backends() {
  local workers=$1
  spawn-fcgi -a 127.0.0.1 -p 19101 -F "$workers" -- "$work/responder" >/dev/null
  PIXELGATE_SPOOL_DIR="$work/spool" "$bin" serve --listen 127.0.0.1:19102 --workers "$workers" 2>>"$work/pixelgate.log" &
  pids+=($!)
  if [ "$kept" = 1 ]; then
    PIXELGATE_SPOOL_DIR="$work/spool" "$bin" serve --listen 127.0.0.1:19103 --workers "$workers" --threads "$threads" 2>>"$work/pixelgate.log" &
    pids+=($!)
    wait_port 19103
  fi
  wait_port 19101; wait_port 19102
}

stop_backends() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
  pkill -f "$work/responder" 2>/dev/null || true
  sleep 0.3
}

query=$(bench/query.sh)
echo "| workers | nginx empty_gif | C libfcgi responder | pixelgate | pixelgate ÷ C | pixelgate, kept connections ($threads threads a worker) | kept ÷ C | pixelgate ÷ empty_gif |"
echo "|---|---|---|---|---|---|---|---|"
for workers in 1 2; do
  start_backends "$workers"
  gif=$(rate "http://127.0.0.1:19180/empty.gif")
  c=$(rate "http://127.0.0.1:19180/c/pixel/v1/page?$query")
  p=$(rate "http://127.0.0.1:19180/pixel/v1/page?$query")
  k=0
  [ "$kept" = 1 ] && k=$(rate "http://127.0.0.1:19180/keep/pixel/v1/page?$query")
  stop_backends
  awk -v w="$workers" -v g="$gif" -v c="$c" -v p="$p" -v k="$k" 'BEGIN {
    printf "| %d | %d | %d | **%d** | **%.2f×** | %d | %.2f× | %.2f× |\n", w, g, c, p, p / c, k, k / c, (k > p ? k : p) / g }'
done
echo
echo "Query-size scaling, 2 workers (requests/s; the C responder reads the same query):"
echo
echo "| query bytes | C libfcgi responder | pixelgate | pixelgate ÷ C |"
echo "|---|---|---|---|"
start_backends 2
for size in 512 2048 8192 16000; do
  q=$(bench/query.sh "$size")
  c=$(rate "http://127.0.0.1:19180/c/pixel/v1/page?$q")
  p=$(rate "http://127.0.0.1:19180/pixel/v1/page?$q")
  awk -v s="${#q}" -v c="$c" -v p="$p" 'BEGIN { printf "| %d | %d | %d | %.2f× |\n", s, c, p, p / c }'
done
stop_backends
# Every answer was a 200 (checked above); none may be missing from the spool.
lines=$(cat "$work"/spool/*.ndjson 2>/dev/null | wc -l)
bad=$(grep -c '"level":"error"' "$work/pixelgate.log" || true)
echo
echo "Spool lines written during this run: $lines; error log lines: $bad."
