#!/usr/bin/env python3
"""A/B of the core (parse + map + encode) between two builds of
pixelgate-bench: runs `pixelgate-bench profile N [QUERY_FILE]` for each
binary in turn, alternating the order every round so a noisy spell hits
both alike, and prints each one's median CPU time per event and the ratio
of the second to the first.

    bench/core-ab.py ROUNDS EVENTS BENCH_A BENCH_B [QUERY_FILE ...]

With no QUERY_FILE the seed's AMP sample page URL is used; with files
(bench/query.sh SIZE > FILE) each is compared in turn."""
import os
import resource
import statistics
import subprocess
import sys


def cpu_nanos_per_event(binary, events, query):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = [binary, "profile", str(events)] + ([query] if query else [])
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return spent * 1e9 / events


def main():
    rounds, events = int(sys.argv[1]), int(sys.argv[2])
    a, b = sys.argv[3], sys.argv[4]
    queries = [q or None for q in sys.argv[5:]] or [None]
    print("| query | A: median per event | B: median per event | B ÷ A |")
    print("|---|---|---|---|")
    for query in queries:
        times = {a: [], b: []}
        for r in range(rounds):
            for binary in ((a, b) if r % 2 == 0 else (b, a)):
                times[binary].append(cpu_nanos_per_event(binary, events, query))
        ma, mb = statistics.median(times[a]), statistics.median(times[b])
        name = "AMP sample page URL" if query is None else f"{os.path.getsize(query)} B query"
        print(f"| {name} | {ma / 1000:.2f} µs | {mb / 1000:.2f} µs | {mb / ma:.3f} |")


main()
