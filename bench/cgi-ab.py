#!/usr/bin/env python3
"""A/B of plain-CGI start: runs each binary as one CGI hit into a spool,
alternating the order every round so a noisy spell hits them alike, and
prints each one's median time and its ratio to the first binary's.

    bench/cgi-ab.py ROUNDS BINARY_A BINARY_B [...]

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
    rounds = int(sys.argv[1])
    binaries = sys.argv[2:]
    spool = tempfile.mkdtemp(prefix="pixelgate-cgi-ab.", dir="/var/tmp")
    query = "writeKey=wk&anonymousId=a&event=Signed%20Up&properties.plan=pro"
    env = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
           "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REQUEST_URI": "/pixel/v1/track?" + query,
           "QUERY_STRING": query, "PIXELGATE_SPOOL_DIR": spool + "/spool"}
    devnull = os.open(os.devnull, os.O_WRONLY)
    times = {b: [] for b in binaries}
    try:
        for i in range(rounds):
            for b in (binaries if i % 2 == 0 else binaries[::-1]):
                start = time.perf_counter_ns()
                pid = os.posix_spawn(b, [b], env, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                                                (os.POSIX_SPAWN_DUP2, devnull, 2)])
                _, status = os.waitpid(pid, 0)
                times[b].append((time.perf_counter_ns() - start) / 1e6)
                if status != 0:
                    sys.exit(f"{b} exited with status {status}")
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    first = statistics.median(times[binaries[0]])
    for b in binaries:
        m = statistics.median(times[b])
        print(f"{b}: median {m:.3f} ms, {m / first:.3f}x the first")


if __name__ == "__main__":
    main()
