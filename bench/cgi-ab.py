#!/usr/bin/env python3
"""A/B of plain-CGI start: runs each binary as one CGI hit into a spool,
alternating the order every round so a noisy spell hits them alike, and
prints each one's median time and its ratio to the first binary's.

    bench/cgi-ab.py ROUNDS BINARY_A BINARY_B [...]
    bench/cgi-ab.py --forward DATA_PLANE_URL ROUNDS BINARY

With --forward, each binary runs twice a round: spooling, then (order
alternating) forwarding to DATA_PLANE_URL (gzip off, as a hit's single
event is small), which is what docs/shared-hosting.md's "Which sink" compares. A local
stand-in: python3 Tests/DataPlane/receiver.py --port 18555 --keys wk
--events /tmp/events.ndjson --faults /tmp/faults.

Each binary should be an installed copy (`install -m 755`), as
bench/cgi.sh uses: the linker's own output file started measurably slower
here than any copy. The spool is a fresh temporary directory."""
import os
import shutil
import statistics
import sys
import tempfile
import time


def main():
    args = sys.argv[1:]
    forward = None
    if args[:1] == ["--forward"]:
        forward, args = args[1], args[2:]
    rounds = int(args[0])
    spool = tempfile.mkdtemp(prefix="pixelgate-cgi-ab.", dir="/var/tmp")
    query = "writeKey=wk&anonymousId=a&event=Signed%20Up&properties.plan=pro"
    env = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
           "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REQUEST_URI": "/pixel/v1/track?" + query,
           "QUERY_STRING": query, "PIXELGATE_SPOOL_DIR": spool + "/spool"}
    # (label, binary, environment) for every program to time.
    runs = []
    for b in args[1:]:
        if forward:
            runs.append((b + " spool", b, env))
            runs.append((b + " forward", b, dict(env, PIXELGATE_SINK="forward", PIXELGATE_DATA_PLANE_URL=forward,
                                                   PIXELGATE_GZIP="off")))
        else:
            runs.append((b, b, env))
    devnull = os.open(os.devnull, os.O_WRONLY)
    times = {label: [] for label, _, _ in runs}
    try:
        for i in range(rounds):
            for label, b, e in (runs if i % 2 == 0 else runs[::-1]):
                start = time.perf_counter_ns()
                pid = os.posix_spawn(b, [b], e, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                                              (os.POSIX_SPAWN_DUP2, devnull, 2)])
                _, status = os.waitpid(pid, 0)
                times[label].append((time.perf_counter_ns() - start) / 1e6)
                if status != 0:
                    sys.exit(f"{label} exited with status {status}")
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    first = statistics.median(times[runs[0][0]])
    for label, _, _ in runs:
        m = statistics.median(times[label])
        print(f"{label}: median {m:.3f} ms, {m / first:.3f}x the first")


if __name__ == "__main__":
    main()
