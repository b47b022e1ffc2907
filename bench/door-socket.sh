#!/usr/bin/env bash
# The shipped door (a unix socket) against TCP on 127.0.0.1, both behind one
# nginx, in the same go (BENCHMARKS.md "The private door").
#
#   bench/door-socket.sh PIXELGATE_BINARY [SECONDS] [ROUNDS]
#
# Two `pixelgate serve` with their defaults (2 workers × 2 threads), one on
# a unix socket, one on TCP; nginx opens a connection per hit to each, as
# nginx-conf/pixelgate-serve.conf does. Rounds alternate the two so the
# machine's drift falls on both. Prints, for each, the median requests/s of
# the rounds and the CPU per request of pixelgate's processes and of nginx's
# workers over all rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
seconds=${2:-5}
rounds=${3:-5}
connections=32
work=$(mktemp -d /var/tmp/pixelgate-door-bench.XXXXXX)
chmod 711 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

cp /etc/nginx/fastcgi_params "$work/"
cat > "$work/nginx.conf" <<CONF
user www-data;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:19280;
        location /unix/ { include $work/fastcgi_params; fastcgi_pass unix:$work/pixelgate.sock; }
        location /tcp/ { include $work/fastcgi_params; fastcgi_pass 127.0.0.1:19281; }
    }
}
CONF
PIXELGATE_SPOOL_DIR="$work/spool" "$bin" serve --listen "$work/pixelgate.sock" --socket-group www-data 2>>"$work/pixelgate.log" &
pids+=($!)
PIXELGATE_SPOOL_DIR="$work/spool" "$bin" serve --listen 127.0.0.1:19281 2>>"$work/pixelgate.log" &
pids+=($!)
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon on;'
sleep 1

. bench/lib.sh  # ticks, median

query=$(bench/query.sh)
hz=$(getconf CLK_TCK)
nginx_workers=$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')
declare -A rates requests backend_ticks nginx_ticks
for way in unix tcp; do
  wrk -t2 -c"$connections" -d1s "http://127.0.0.1:19280/$way/pixel/v1/page?$query" >/dev/null
  rates[$way]=""; requests[$way]=0; backend_ticks[$way]=0; nginx_ticks[$way]=0
done
unix_pids="${pids[0]} $(pgrep -P "${pids[0]}" | tr '\n' ' ')"
tcp_pids="${pids[1]} $(pgrep -P "${pids[1]}" | tr '\n' ' ')"
for round in $(seq "$rounds"); do
  for way in unix tcp; do
    [ "$way" = unix ] && backend=$unix_pids || backend=$tcp_pids
    # shellcheck disable=SC2086
    b0=$(ticks $backend); n0=$(ticks $nginx_workers)
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" "http://127.0.0.1:19280/$way/pixel/v1/page?$query")
    if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers on $way:" >&2; echo "$out" >&2; exit 1; fi
    # shellcheck disable=SC2086
    backend_ticks[$way]=$(( ${backend_ticks[$way]} + $(ticks $backend) - b0 ))
    # shellcheck disable=SC2086
    nginx_ticks[$way]=$(( ${nginx_ticks[$way]} + $(ticks $nginx_workers) - n0 ))
    rates[$way]+="$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out") "
    requests[$way]=$(( ${requests[$way]} + $(awk '/requests in/ {print $1}' <<<"$out") ))
  done
done
echo "| backend | requests/s (median of $rounds) | pixelgate µs CPU/request | nginx µs CPU/request |"
echo "|---|---|---|---|"
for way in unix tcp; do
  echo "| $way | $(median <<<"${rates[$way]}") | $(( ${backend_ticks[$way]} * 1000000 / hz / ${requests[$way]} )) | $(( ${nginx_ticks[$way]} * 1000000 / hz / ${requests[$way]} )) |"
done
