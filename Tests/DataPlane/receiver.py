#!/usr/bin/env python3
"""A stand-in for a RudderStack data plane's /v1/batch, as strict as the real one.

  receiver.py --port N --keys wk1,wk2 --events FILE [--faults FILE] [--count-only]

Answers like the data plane: 401 for a missing or unknown write key (HTTP
Basic, key as user, empty password), 413 for a body over 4,000 KB, 400 for
JSON that does not parse, a batch that is not a list, or an element without
"type" or without "anonymousId"/"userId"; gzip bodies are accepted. Each
accepted event is appended to FILE as {"writeKey":…,"event":…}, and each
authorised request's Content-Encoding to FILE.encodings.

Faults: FILE holds one fault per line; each request takes the first line
(and removes it): "ok" (answer normally), "500", "503", "429 SECONDS" (with Retry-After),
"slow SECONDS" (wait, then 503, nothing recorded), "drop" (close the
connection without an answer).
"""
import argparse
import base64
import gzip
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 4000 * 1024
lock = threading.Lock()


def next_fault(path):
    if not path:
        return None
    with lock:
        try:
            with open(path) as f:
                lines = [l.strip() for l in f if l.strip()]
        except FileNotFoundError:
            return None
        if not lines:
            return None
        # Replaced whole, never truncated in place: a test polling this file
        # must not see it empty while faults remain.
        with open(path + ".tmp", "w") as f:
            f.write("".join(l + "\n" for l in lines[1:]))
        os.replace(path + ".tmp", path)
        return lines[0].split()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's
        # algorithm holds the body for the client's delayed ACK (~40 ms a
        # request). Go's server, the real data plane's, sets it too.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def answer(self, status, text, headers=()):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length <= 64 * 1024 * 1024 else b""
        fault = next_fault(self.server.faults)
        if fault and fault[0] != "ok":
            kind = fault[0]
            if kind == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if kind == "slow":
                time.sleep(float(fault[1]))
                return self.answer(503, "slow")
            if kind == "429":
                return self.answer(429, "Too Many Requests", [("Retry-After", fault[1])])
            return self.answer(int(kind), "injected failure")
        if self.path != "/v1/batch":
            return self.answer(404, "404 page not found")
        auth = self.headers.get("Authorization", "")
        try:
            user, _, password = base64.b64decode(auth.split(" ", 1)[1]).decode().partition(":")
        except Exception:
            return self.answer(401, "Failed to read writeKey from header")
        if not auth.startswith("Basic ") or user not in self.server.keys or password != "":
            return self.answer(401, "Invalid write key")
        if length > MAX_BODY:
            return self.answer(413, "Request size exceeds max limit")
        encoding = self.headers.get("Content-Encoding", "identity")
        with lock, open(self.server.events + ".encodings", "a") as f:
            f.write(encoding + "\n")
        if encoding == "gzip":
            try:
                raw = gzip.decompress(raw)
            except Exception:
                return self.answer(400, "Invalid gzip body")
        try:
            body = json.loads(raw)
        except Exception:
            return self.answer(400, "Invalid request body")
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, list) or not batch:
            return self.answer(400, "Invalid request body")
        for event in batch:
            if not isinstance(event, dict) or not isinstance(event.get("type"), str) \
                    or not (event.get("anonymousId") or event.get("userId")):
                return self.answer(400, "Invalid request body")
        with lock, open(self.server.events, "a") as f:
            if self.server.count_only:
                f.write("\n" * len(batch))
            else:
                for event in batch:
                    f.write(json.dumps({"writeKey": user, "event": event}) + "\n")
        return self.answer(200, "OK")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", default="")
    parser.add_argument("--events", required=True)
    parser.add_argument("--faults", default="")
    parser.add_argument("--count-only", action="store_true",
                        help="validate as usual but record one empty line per event (benchmarks)")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.keys = set(k for k in args.keys.split(",") if k)
    server.events = args.events
    server.faults = args.faults
    server.count_only = args.count_only
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
