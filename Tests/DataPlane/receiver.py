#!/usr/bin/env python3
"""A stand-in for a RudderStack data plane's /v1/batch, as strict as the real one.

  receiver.py --port N --keys wk1,wk2 --events FILE [--faults FAULTS]
              [--count-only] [--clock-offset SECONDS]
              [--redirect URL | --not-found] [--refuse-ids id1,id2]

Listens on 127.0.0.1:N (HTTP/1.1 with keep-alive, TCP_NODELAY) and, once it
accepts connections, prints "receiver ready: pid P port N" on stdout.

Each POST is answered in this order (bodies are exact, text/plain):

 1. A fault from FAULTS, if there is one (see below).
 2. --redirect URL: 301 with "Location: URL" and no body, for every POST.
    --not-found: 404 "404 page not found" for every POST (--redirect wins).
 3. A path other than /v1/batch: 404 "404 page not found".
 4. HTTP Basic auth, the write key as user (the password must be empty):
    no usable Authorization header: 401 "failed to read writekey from header";
    a key not in --keys (or a non-empty password): 401 "invalid write key".
    From here on every request is logged (see FILE.requests). A body over
    64 MiB is not read: 413 "request size exceeds max limit" at once.
 5. Content-Encoding: gzip is inflated; a body that does not inflate:
    500 "failed to read body from request" (the real gateway's answer when
    its gzip reader fails).
 6. The body as the gateway reads it: not JSON (NaN, Infinity and a BOM
    included, and, stricter than the gateway, bytes that are not UTF-8):
    400 "invalid json". "batch" is taken as gjson does: missing
    or null is an empty batch, a non-list value a batch of that one value.
    Then each element in order, the first failure answering for the WHOLE
    request (nothing of it is recorded):
      - not an object: 400 "event is not a valid rudder event";
      - anonymousId and userId both empty: 400 "request neither has
        anonymousId nor userId". Each is stringified like rudder-go-kit's
        stringify.Any (a string as is, null or missing as "", any other
        value as its JSON text, Go-style), then stripped of what
        sanitize.Unicode drops (every code point Go's unicode.IsPrint
        rejects, i.e. categories C* and Z* but the ASCII space, plus its
        list of invisible runes such as U+00A0, U+200B-U+200F, U+2060,
        U+3164, U+FEFF; categories from Python's Unicode tables), then
        trimmed of Unicode white space. As on the gateway, events of type
        "extract" and "record" are exempt;
      - --refuse-ids: an anonymousId (cleaned as above) in that list answers
        the same 400, as the gateway does when one event lacks an identity;
      - no string "type" (this stand-in's own rule): 400 "event is not a
        valid rudder event".
    Then a decompressed body over 4,000 KB (4000*1024 bytes) answers 413
    "request size exceeds max limit" (unless an event has type
    "audiencelist", as on the gateway), and an empty batch 400 "empty
    batch payload". Otherwise 200 "ok" and the batch is recorded.
 7. One address per request, as rudder-server has it: the gateway starts
    from the client's address (the first X-Forwarded-For entry, else the
    peer's) and, event by event, takes each event's own "request_ip" when
    it has the key (a non-string as ""), so the LAST such value wins
    (gateway handle.go, getJobDataFromRequest); the processor then writes
    that one address into EVERY event's "request_ip" (processor.go,
    transformerEvent.Message["request_ip"] = event.requestIP). The events
    recorded carry that address, as RudderStack would store them;
    "context.ip" is left as sent, as the processor leaves it.

Files:
  FILE             one line per accepted event:
                   {"writeKey":…,"event":…,"processed":{"receivedAt":…,"timestamp":…,"request_ip":…}}
                   where event["request_ip"] is already the request's one
                   address (step 7) and processed.sent_request_ip is what
                   the event itself carried (absent when it had no key)
                   (--count-only: an empty line per event instead, for benchmarks)
  FILE.encodings   the Content-Encoding ("identity" when none) of each
                   authorised request (one that passed step 4)
  FILE.requests    one line per request that reached step 4:
                   {"status":N,"events":N,"encoding":"…","userAgent":"…","path":"…",
                    "requestIP":"…"}  (requestIP only on a 200: step 7's address)
                   events = batch length, 0 when the body was not parsed

"processed" is what rudder-server's processor (enhanceWithTimeFields) makes
of the event: receivedAt is when this receiver got the request plus
--clock-offset SECONDS (a float, default 0; it simulates a drain running
that long after the hits), cut to milliseconds as the gateway writes it.
originalTimestamp and sentAt are parsed as dateparse.ParseAny would, falling
back to receivedAt; timestamp is the event's own "timestamp" when that
parses, else receivedAt - (sentAt - originalTimestamp). Both are written as
UTC "2026-11-27T13:26:12.345Z" (milliseconds, truncated). Parsed forms:
  YYYY-MM-DD, optionally followed by 'T' or a space and hh:mm[:ss[.fraction]]
  (',' also marks a fraction; one-digit month, day, hour, minute and second
  are accepted), then optionally Z, ±hh:mm, ±hhmm or ±hh; no zone is UTC
  (as in dateparse, ±hh after a fraction is read as the day of the month).
  All-digit strings by length: 19 nanoseconds, 16 microseconds (wrapping
  as Go's int64 does), 13 milliseconds, 10 seconds since the epoch, 14
  yyyyMMddhhmmss, 8 yyyymmdd, 4 yyyy. Fields are range-checked as Go's
  time.Parse does. Other strings, which dateparse may still read (RFC 1123,
  slashes, month names), are treated as unparseable here.

Faults: FAULTS holds one fault per line; each POST takes the first line
(and removes it):
  ok             answer normally
  drop           close the connection without an answer
  slow SECONDS   wait, then 503 "slow" (nothing recorded)
  429 [SECONDS]  429 "Too Many Requests", with Retry-After when given
  301|302|307|308 [URL]
                 that status with "Location: URL" and no body (default URL
                 https://example.invalid/v1/batch)
  404src         404 "source is disabled" (a disabled source on the gateway)
  any other number N
                 N with body "injected failure" (e.g. 404, 500, 503)
  anything else  500 "unknown fault: …" (and a line on stderr)
A request answered by a fault or by --redirect/--not-found is not logged.
"""
import argparse
import base64
import binascii
import gzip
import json
import os
import re
import socket
import sys
import threading
import time
import unicodedata
import zlib
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MAX_BODY = 4000 * 1024
DEFAULT_LOCATION = "https://example.invalid/v1/batch"
lock = threading.Lock()

NON_IDENTIFIABLE = "request neither has anonymousId nor userId"
NOT_RUDDER_EVENT = "event is not a valid rudder event"


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


def append_lines(path, lines):
    with lock, open(path, "a") as f:
        f.write("".join(line + "\n" for line in lines))


# --- Identity: stringify.Any, sanitize.Unicode, strings.TrimSpace -----------

# sanitize.Unicode's own list, on top of what unicode.IsPrint rejects.
INVISIBLE = frozenset([0x0000, 0x0009, 0x00A0, 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160,
                       0x17B4, 0x17B5, 0x180E, 0x202F, 0x205F, 0x2800, 0x3000, 0x3164,
                       0xFEFF, 0xFFA0]
                      + list(range(0x2000, 0x2010)) + list(range(0x2060, 0x2065))
                      + list(range(0x206A, 0x2070)))

# Go's unicode.IsSpace, which strings.TrimSpace trims.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) \
    + "\u2028\u2029\u202f\u205f\u3000"

SURROGATE = re.compile("[\ud800-\udfff]")


def go_string_value(s):
    """A lone surrogate escape ("\\ud800") becomes U+FFFD, as in Go."""
    if SURROGATE.search(s):
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return s


def go_float(f):
    """A float64 as Go's encoding/json writes it."""
    if f != f or f in (float("inf"), float("-inf")):
        return str(f)
    if f != 0 and (abs(f) < 1e-6 or abs(f) >= 1e21):
        text = repr(f)                       # shortest digits, exponent form
        mantissa, _, exponent = text.partition("e")
        return mantissa + "e" + exponent[0] + exponent[1:].lstrip("0")
    text = format(Decimal(repr(f)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def go_json(value):
    """Compact JSON as Go's json.Marshal writes a decoded value (numbers are
    float64, keys sorted, <>& and U+2028/9 escaped)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        try:
            return go_float(float(value))
        except OverflowError:
            return str(value)
    if isinstance(value, str):
        text = json.dumps(go_string_value(value), ensure_ascii=False)
        for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                             ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(raw, escaped)
        return text
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    keys = sorted(value, key=lambda k: go_string_value(k).encode("utf-8"))
    return "{" + ",".join(go_json(k) + ":" + go_json(value[k]) for k in keys) + "}"


def is_go_printable(ch):
    return ch == " " or unicodedata.category(ch)[0] in "LMNPS"


def identity(value):
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = go_string_value(value)
    else:
        text = go_json(value)
    kept = "".join(ch for ch in text if ord(ch) not in INVISIBLE and is_go_printable(ch))
    return kept.strip(GO_SPACE)


# --- Time: dateparse.ParseAny (the forms that matter), processor fields ----

NS = 1_000_000_000
INT64_MAX = 2 ** 63 - 1


def wrap_int64(n):
    return (n + 2 ** 63) % 2 ** 64 - 2 ** 63


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    y -= 1 if m <= 2 else 0
    era = y // 400
    year_of_era = y - era * 400
    day_of_year = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def civil_from_days(days):
    z = days + 719468
    era = z // 146097
    day_of_era = z - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    mp = (5 * day_of_year + 2) // 153
    d = day_of_year - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return year_of_era + era * 400 + (1 if m <= 2 else 0), m, d


def days_in_month(y, m):
    if m == 2:
        return 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def civil_ns(y, mo, d, h=0, mi=0, s=0, frac=0, offset_seconds=0):
    """ns since the epoch, or None when time.Parse would refuse a field."""
    if not (1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo)
            and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= s <= 59):
        return None
    seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_seconds
    return seconds * NS + frac


DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[T ] *(?:([0-9]{1,2}):([0-9]{1,2})"
    r"(?::([0-9]{1,2})(?:[.,]([0-9]+))?)?"
    r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?)?")
DIGITS = re.compile(r"[0-9]+")


def parse_time(value):
    """ns since the epoch as dateparse.ParseAny reads `value`, or None."""
    if not isinstance(value, str):
        return None
    if DIGITS.fullmatch(value):
        n = len(value)
        if n == 19:
            v = int(value)
            return v if v <= INT64_MAX else None
        if n == 16:
            return wrap_int64(int(value) * 1000)
        if n == 13:
            return wrap_int64(int(value) * 1_000_000)
        if n == 10:
            return int(value) * NS
        if n == 14:
            return civil_ns(int(value[0:4]), int(value[4:6]), int(value[6:8]),
                            int(value[8:10]), int(value[10:12]), int(value[12:14]))
        if n == 8:
            return civil_ns(int(value[0:4]), int(value[4:6]), int(value[6:8]))
        if n == 4:
            return civil_ns(int(value), 1, 1)
        return None
    m = DATE_TIME.fullmatch(value)
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    offset = 0
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        if len(digits) == 2 and fraction is not None:
            # dateparse leaves "+hh" in its layout here, where Go reads the
            # "02" as a day of the month: the day becomes hh, no offset.
            return civil_ns(int(year), int(month), int(digits), int(hour), int(minute),
                            int(second), int(fraction[:9].ljust(9, "0")))
        hh, mm = int(digits[0:2]), int(digits[2:4] or 0)
        if hh > 24 or mm > 60:
            return None
        offset = (hh * 3600 + mm * 60) * (1 if zone[0] == "+" else -1)
    frac = int(fraction[:9].ljust(9, "0")) if fraction else 0
    return civil_ns(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                    int(second or 0), frac, offset)


def chronological(received, sent, original):
    """misc.GetChronologicalTimeStamp: received - (sent - original), with
    time.Sub's saturation and Go's wrapping negation."""
    d = max(-2 ** 63, min(INT64_MAX, sent - original))
    return received + (d if d == -2 ** 63 else -d)


def rfc3339_milli(ns):
    seconds, frac = divmod(ns, NS)
    days, second_of_day = divmod(seconds, 86400)
    y, m, d = civil_from_days(days)
    year = "-%04d" % -y if y < 0 else "%04d" % y
    return "%s-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        year, m, d, second_of_day // 3600, second_of_day % 3600 // 60, second_of_day % 60,
        frac // 1_000_000)


def processed(event, received):
    original = parse_time(event.get("originalTimestamp"))
    sent = parse_time(event.get("sentAt"))
    original = received if original is None else original
    sent = received if sent is None else sent
    timestamp = parse_time(event.get("timestamp"))
    if timestamp is None:
        timestamp = chronological(received, sent, original)
    return {"receivedAt": rfc3339_milli(received), "timestamp": rfc3339_milli(timestamp)}


# --- The gateway's reading of a request --------------------------------------

def reject_constant(name):
    raise ValueError("not JSON: " + name)


def basic_auth(header):
    """(user, password) as Go's Request.BasicAuth reads the header, or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None
    if ":" not in decoded:
        return None
    user, _, password = decoded.partition(":")
    return user, password


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
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        too_long = length > 64 * 1024 * 1024
        raw = b"" if too_long else self.rfile.read(length)
        if too_long:
            self.close_connection = True     # the body is left unread
        received = time.time_ns() + round(self.server.clock_offset * NS)
        received -= received % 1_000_000     # the gateway writes milliseconds
        fault = next_fault(self.server.faults)
        if fault and fault[0] != "ok":
            return self.injected(fault)
        if self.server.redirect is not None:
            return self.answer(301, "", [("Location", self.server.redirect)])
        if self.server.not_found:
            return self.answer(404, "404 page not found")
        if urlsplit(self.path).path != "/v1/batch":
            return self.answer(404, "404 page not found")
        status, text, events, request_ip = self.batch(raw, too_long, received)
        entry = {"status": status, "events": events,
                 "encoding": self.headers.get("Content-Encoding", "identity"),
                 "userAgent": self.headers.get("User-Agent", ""), "path": self.path}
        if request_ip is not None:
            entry["requestIP"] = request_ip
        append_lines(self.server.events + ".requests", [json.dumps(entry, separators=(",", ":"))])
        return self.answer(status, text)

    def injected(self, fault):
        kind, args = fault[0], fault[1:]
        if kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if kind == "slow":
            time.sleep(float(args[0]))
            return self.answer(503, "slow")
        if kind == "429":
            return self.answer(429, "Too Many Requests", [("Retry-After", args[0])] if args else [])
        if kind in ("301", "302", "307", "308"):
            return self.answer(int(kind), "", [("Location", args[0] if args else DEFAULT_LOCATION)])
        if kind == "404src":
            return self.answer(404, "source is disabled")
        if kind.isdigit():
            return self.answer(int(kind), "injected failure")
        print("receiver: unknown fault %r" % " ".join(fault), file=sys.stderr, flush=True)
        return self.answer(500, "unknown fault: " + " ".join(fault))

    def gateway_address(self):
        """kithttputil.GetRequestIP: the first X-Forwarded-For entry, else
        the peer's address."""
        forwarded = self.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
        return self.client_address[0]

    def batch(self, raw, too_long, received):
        """(status, body, events, request_ip) for an authenticated /v1/batch
        request, recording the events when it is accepted (request_ip is
        None unless it was)."""
        credentials = basic_auth(self.headers.get("Authorization", ""))
        if credentials is None or credentials[0] == "":
            return 401, "failed to read writekey from header", 0, None
        user, password = credentials
        # The gateway's writeKeyAuth: a known key of a disabled source is
        # refused before anything of the body is read.
        if user in self.server.disabled_keys:
            return 404, "source is disabled", 0, None
        if user not in self.server.keys or password != "":
            return 401, "invalid write key", 0, None
        encoding = self.headers.get("Content-Encoding", "identity")
        append_lines(self.server.events + ".encodings", [encoding])
        if too_long:
            return 413, "request size exceeds max limit", 0, None
        if encoding == "gzip":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error):
                return 500, "failed to read body from request", 0, None
        try:
            # Strict UTF-8, as this stand-in always was (stricter than gjson).
            body = json.loads(raw.decode("utf-8"), parse_constant=reject_constant)
        except (ValueError, RecursionError):
            return 400, "invalid json", 0, None
        batch = body.get("batch") if isinstance(body, dict) else None
        if batch is None:
            batch = []
        elif not isinstance(batch, list):
            batch = [batch]
        audience_list = False
        for event in batch:
            if not isinstance(event, dict):
                return 400, NOT_RUDDER_EVENT, len(batch), None
            kind = event.get("type")
            anonymous_id = identity(event.get("anonymousId"))
            if kind not in ("extract", "record") and anonymous_id == "" \
                    and identity(event.get("userId")) == "":
                return 400, NON_IDENTIFIABLE, len(batch), None
            if anonymous_id in self.server.refuse_ids:
                return 400, NON_IDENTIFIABLE, len(batch), None
            if not isinstance(kind, str):
                return 400, NOT_RUDDER_EVENT, len(batch), None
            audience_list = audience_list or kind == "audiencelist"
        if len(raw) > MAX_BODY and not audience_list:
            return 413, "request size exceeds max limit", len(batch), None
        if not batch:
            return 400, "empty batch payload", 0, None
        request_ip = self.gateway_address()
        sent = []
        for event in batch:
            if "request_ip" in event:
                value = event["request_ip"]
                request_ip = value if isinstance(value, str) else ""
                sent.append(value)
            else:
                sent.append(None)
        if self.server.count_only:
            append_lines(self.server.events, [""] * len(batch))
        else:
            lines = []
            for event, own in zip(batch, sent):
                facts = processed(event, received)
                facts["request_ip"] = request_ip
                if own is not None:
                    facts["sent_request_ip"] = own
                event["request_ip"] = request_ip
                lines.append(json.dumps({"writeKey": user, "event": event, "processed": facts}))
            append_lines(self.server.events, lines)
        return 200, "ok", len(batch), request_ip


def main():
    parser = argparse.ArgumentParser(description="A strict stand-in for a RudderStack data plane.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", default="")
    parser.add_argument("--events", required=True)
    parser.add_argument("--faults", default="")
    parser.add_argument("--count-only", action="store_true",
                        help="validate as usual but record one empty line per event (benchmarks)")
    parser.add_argument("--clock-offset", type=float, default=0.0, metavar="SECONDS",
                        help="add this to the time requests arrive when computing receivedAt")
    parser.add_argument("--redirect", metavar="URL", help="answer every POST 301 to URL")
    parser.add_argument("--not-found", action="store_true", help="answer every POST 404")
    parser.add_argument("--refuse-ids", default="", metavar="ID,ID",
                        help="refuse (400) any request with an event of one of these anonymousIds")
    parser.add_argument("--disabled-keys", default="", metavar="KEY,KEY",
                        help="write keys of disabled sources: 404 \"source is disabled\", as the gateway answers")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.keys = set(k for k in args.keys.split(",") if k)
    server.disabled_keys = set(k for k in args.disabled_keys.split(",") if k)
    server.events = args.events
    server.faults = args.faults
    server.count_only = args.count_only
    server.clock_offset = args.clock_offset
    server.redirect = args.redirect
    server.not_found = args.not_found
    server.refuse_ids = set(i for i in args.refuse_ids.split(",") if i)
    server.daemon_threads = True
    print("receiver ready: pid %d port %d" % (os.getpid(), args.port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
