#!/usr/bin/env bash
# Drain throughput: N events spooled, then `pixelgate drain --once` into a
# local stand-in data plane, three rounds. Prints a Markdown table row per
# round and the median.
#
#   bench/drain.sh [N] [PER] [BASE]
#
# PER: events per visitor address (pixelgate-bench fill): 10 has the drain
# send one request per address of ten events, 1 is the worst case (one
# event a request); without it every event has the same address. BASE: a
# second pixelgate binary (an earlier release) drained in the same run,
# rounds alternating, so both see the same machine.
#
# The stand-in is bench/c/receiver.c: the checks of the tests' receiver
# (Tests/DataPlane/receiver.py --count-only), compiled. The Python one
# spends 15 µs an event in json.loads alone and, sharing the 2 cores with
# the drain, was what this benchmark measured.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
per=${2:-}
base=${3:-}
work=$(mktemp -d /var/tmp/pixelgate-drain-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cc -O2 -o "$work/receiver" bench/c/receiver.c -lz -lpthread
"$work/receiver" --port "$port" --keys 2AbCwk --events "$work/received.ndjson" &
receiver=$!
trap 'kill $receiver 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
binaries=("$PWD/.build/release/pixelgate")
[ -n "$base" ] && binaries=("$base" "${binaries[@]}")
declare -A rates
echo "| round | binary | events | requests | wall s | drain CPU s | peak RSS MiB | events/s |"
echo "|---|---|---|---|---|---|---|---|"
for round in 1 2 3; do
  for binary in "${binaries[@]}"; do
    rm -rf "$work/spool" "$work/received.ndjson" "$work/received.ndjson.requests"
    # shellcheck disable=SC2086
    .build/release/pixelgate-bench fill "$work/spool" "$n" $per
    start=$(date +%s.%N)
    PIXELGATE_SPOOL_DIR="$work/spool" PIXELGATE_DATA_PLANE_URL="http://127.0.0.1:$port" \
      /usr/bin/time -f "%U %S %M" -o "$work/cpu" "$binary" drain --once 2>/dev/null
    end=$(date +%s.%N)
    got=$(wc -l < "$work/received.ndjson")
    [ "$got" -eq "$n" ] || { echo "received $got of $n" >&2; exit 1; }
    requests=$(wc -l < "$work/received.ndjson.requests")
    rate=$(python3 -c "print(int($n / ($end - $start)))")
    rates[$binary]+="$rate "
    cpu=$(awk '{print $1 + $2}' "$work/cpu")
    label=$([ "$binary" = "$base" ] && echo base || echo this)
    rss=$(awk '{printf "%d", $3 / 1024}' "$work/cpu")
    printf '| %s | %s | %s | %s | %.2f | %.2f | %s | %s |\n' "$round" "$label" "$n" "$requests" "$(python3 -c "print($end - $start)")" "$cpu" "$rss" "$rate"
  done
done
echo
for binary in "${binaries[@]}"; do
  median=$(printf '%s\n' ${rates[$binary]} | sort -n | sed -n 2p)
  label=$([ "$binary" = "$base" ] && echo "base ($base)" || echo this)
  echo "Median, $label: **$median events/s** (${per:-all} events per address; defaults: batches of 512 KiB, gzipped; one drain, receiver and drain sharing the 2 cores)."
done
