#!/usr/bin/env bash
# FastCGI behind nginx, measured with wrk from 127.0.0.1 (BENCHMARKS.md b, f).
#
#   bench/fastcgi.sh PIXELGATE_BINARY [SECONDS]
#
# One nginx (bench/nginx.conf) fronts, in the same run:
#   - empty_gif: nginx answering by itself, the ceiling of any backend;
#   - bench/c/responder.c under spawn-fcgi: the least a libfcgi responder does;
#   - pixelgate serve --threads 1, spool sink, one connection per request:
#     one thread a worker, like the C responder;
#   - pixelgate serve with its default threads, one connection per request;
#   - pixelgate serve --threads 16, with fastcgi_keep_conn and a keepalive pool.
# Each with 1 and 2 worker processes, then pixelgate at growing query sizes.
# Every request carries a browser's agent (bench/lib.sh), as people's hits do.
# Prints Markdown tables; every rate is the median of 3 wrk runs, and the CPU
# each backend and nginx spent per request over those runs.
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

. bench/lib.sh  # ticks

# "RATE BACKEND_US NGINX_US" for a URL: the median requests/s of 3 wrk runs,
# and the CPU the backend's processes and nginx's workers spent per request
# over those runs (from /proc/PID/stat). Fails on any answer that is not 2xx.
# The backend's PIDs are those whose command line matches $2 (pgrep -f).
rate() {
  local url=$1 pattern=$2 out all=() requests=0 backend nginx b0 n0 hz
  hz=$(getconf CLK_TCK)
  wrk -t2 -c"$connections" -d1s -H "User-Agent: $browser_agent" "$url" >/dev/null  # warm-up; starts every thread
  backend=$(pgrep -f "$pattern" | tr '\n' ' ' || true)
  nginx=$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')
  # shellcheck disable=SC2086
  b0=$(ticks $backend); n0=$(ticks $nginx)
  for _ in 1 2 3; do
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" -H "User-Agent: $browser_agent" "$url")
    if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $url:" >&2; echo "$out" >&2; return 1; fi
    all+=("$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")")
    requests=$((requests + $(awk '/requests in/ {print $1}' <<<"$out")))
  done
  # shellcheck disable=SC2086
  echo "$(printf '%s\n' "${all[@]}" | sort -n | sed -n 2p)" \
    "$(( ($(ticks $backend) - b0) * 1000000 / hz / requests ))" \
    "$(( ($(ticks $nginx) - n0) * 1000000 / hz / requests ))"
}

# A binary from before --threads existed (to compare releases) gets no
# kept-connection column.
kept=1
one_thread=(--threads 1)
"$bin" --help 2>&1 | grep -q -- --threads || { kept=0; one_thread=(); }

start_backends() {
  local workers=$1
  spawn-fcgi -a 127.0.0.1 -p 19101 -F "$workers" -- "$work/responder" >/dev/null
  # 19102: one thread a worker, as the C responder; 19104: serve's default.
  PIXELGATE_SPOOL_DIR="$work/spool" "$bin" serve --listen 127.0.0.1:19102 --workers "$workers" "${one_thread[@]}" 2>>"$work/pixelgate.log" &
  pids+=($!)
  PIXELGATE_SPOOL_DIR="$work/spool" "$bin" serve --listen 127.0.0.1:19104 --workers "$workers" 2>>"$work/pixelgate.log" &
  pids+=($!)
  if [ "$kept" = 1 ]; then
    PIXELGATE_SPOOL_DIR="$work/spool" "$bin" serve --listen 127.0.0.1:19103 --workers "$workers" --threads "$threads" 2>>"$work/pixelgate.log" &
    pids+=($!)
    wait_port 19103
  fi
  wait_port 19101; wait_port 19102; wait_port 19104
}

stop_backends() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
  pkill -f "$work/responder" 2>/dev/null || true
  sleep 0.3
}

query=$(bench/query.sh)
rows=()
cpu=()
for workers in 1 2; do
  start_backends "$workers"
  read -r gif _ gifn < <(rate "http://127.0.0.1:19180/empty.gif" "$work/nothing-matches")
  read -r c cb cn < <(rate "http://127.0.0.1:19180/c/pixel/v1/page?$query" "$work/responder")
  read -r p pb pn < <(rate "http://127.0.0.1:19180/pixel/v1/page?$query" "listen 127.0.0.1:19102")
  read -r d db dn < <(rate "http://127.0.0.1:19180/default/pixel/v1/page?$query" "listen 127.0.0.1:19104")
  k=0; kb=0; kn=0
  [ "$kept" = 1 ] && read -r k kb kn < <(rate "http://127.0.0.1:19180/keep/pixel/v1/page?$query" "listen 127.0.0.1:19103")
  for figure in "$gif" "$c" "$p" "$d" "$k"; do [ -n "$figure" ] || { echo "a wrk run failed" >&2; exit 1; }; done
  stop_backends
  rows+=("$(awk -v w="$workers" -v g="$gif" -v c="$c" -v p="$p" -v d="$d" -v k="$k" 'BEGIN {
    best = p; if (d > best) best = d; if (k > best) best = k
    printf "| %d | %d | %d | %d | %.2f× | **%d** | **%.2f×** | %d | %.2f× | %.2f× |", w, g, c, p, p / c, d, d / c, k, k / c, best / g }')")
  cpu+=("| $workers | $cb | $pb | $db | $kb | $gifn | $cn | $pn | $dn | $kn |")
done
echo "Requests per second (median of 3 wrk runs):"
echo
echo "| workers | nginx empty_gif | C libfcgi responder (1 thread) | pixelgate, 1 thread a worker | ÷ C | pixelgate, default (2 threads a worker) | ÷ C | pixelgate, kept connections ($threads threads a worker) | kept ÷ C | best pixelgate ÷ empty_gif |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "CPU per request in µs (user + system over the 3 runs, from /proc/PID/stat): the backend's processes, then nginx's workers while serving each:"
echo
echo "| workers | C responder | pixelgate, 1 thread | pixelgate, default | pixelgate, kept | nginx: empty_gif | nginx → C | nginx → pixelgate, 1 thread | nginx → pixelgate, default | nginx → pixelgate, kept |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${cpu[@]}"
echo
echo "Query-size scaling, 2 workers, one thread each like the C responder (requests/s; the C responder reads the same query):"
echo
echo "| query bytes | C libfcgi responder | pixelgate | pixelgate ÷ C |"
echo "|---|---|---|---|"
start_backends 2
for size in 512 2048 8192 16000; do
  q=$(bench/query.sh "$size")
  read -r c _ _ < <(rate "http://127.0.0.1:19180/c/pixel/v1/page?$q" "$work/responder")
  read -r p _ _ < <(rate "http://127.0.0.1:19180/pixel/v1/page?$q" "listen 127.0.0.1:19102")
  awk -v s="${#q}" -v c="$c" -v p="$p" 'BEGIN { printf "| %d | %d | %d | %.2f× |\n", s, c, p, p / c }'
done
stop_backends
# Every answer was a 200 (checked above); none may be missing from the spool.
lines=$(cat "$work"/spool/*.ndjson 2>/dev/null | wc -l)
bad=$(grep -c '"level":"error"' "$work/pixelgate.log" || true)
echo
echo "Spool lines written during this run: $lines; error log lines: $bad."
