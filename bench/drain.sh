#!/usr/bin/env bash
# Drain throughput: N events spooled, then `pixelgate drain --once` into a
# local stand-in data plane, three rounds. Prints a Markdown table row per
# round and the median.
#
# The stand-in is bench/c/receiver.c: the checks of the tests' receiver
# (Tests/DataPlane/receiver.py --count-only), compiled. The Python one
# spends 15 µs an event in json.loads alone and, sharing the 2 cores with
# the drain, was what this benchmark measured.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
work=$(mktemp -d /var/tmp/pixelgate-drain-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cc -O2 -o "$work/receiver" bench/c/receiver.c -lz
"$work/receiver" --port "$port" --keys 2AbCwk --events "$work/received.ndjson" &
receiver=$!
trap 'kill $receiver 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
rates=()
echo "| round | events | wall s | drain CPU s | events/s |"
echo "|---|---|---|---|---|"
for round in 1 2 3; do
  rm -rf "$work/spool" "$work/received.ndjson"
  .build/release/pixelgate-bench fill "$work/spool" "$n"
  start=$(date +%s.%N)
  PIXELGATE_SPOOL_DIR="$work/spool" PIXELGATE_DATA_PLANE_URL="http://127.0.0.1:$port" \
    /usr/bin/time -f "%U %S" -o "$work/cpu" .build/release/pixelgate drain --once 2>/dev/null
  end=$(date +%s.%N)
  got=$(wc -l < "$work/received.ndjson")
  [ "$got" -eq "$n" ] || { echo "received $got of $n" >&2; exit 1; }
  rate=$(python3 -c "print(int($n / ($end - $start)))")
  rates+=("$rate")
  cpu=$(awk '{print $1 + $2}' "$work/cpu")
  printf '| %s | %s | %.2f | %.2f | %s |\n' "$round" "$n" "$(python3 -c "print($end - $start)")" "$cpu" "$rate"
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 2p)
echo
echo "Median: **$median events/s** (defaults: batches of 512 KiB, gzipped; one drain, receiver and drain sharing the 2 cores)."
