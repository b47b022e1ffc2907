#!/usr/bin/env bash
# What a plain CGI start costs by how a Swift program is linked
# (BENCHMARKS.md, "What a CGI start costs"): bench/c/hello.swift, which only
# answers OK, linked four ways, against the C program bench/c/cgi.c, in one
# hyperfine run that interleaves nothing else.
#
#   bench/startup.sh
#
# Prints a Markdown table: median per start, ÷ C, the shared libraries the
# loader maps, and the page faults of one start (GNU time's %R, median of 5).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
link=.build/static-link
[ -e "$link/libstdc++.a" ] || scripts/build >/dev/null
work=$(mktemp -d /var/tmp/pixelgate-startup.XXXXXX)
trap 'rm -rf "$work"' EXIT

cc -O2 -o "$work/c" bench/c/cgi.c
# How scripts/build linked pixelgate before: static Swift runtime only.
swiftc -O -static-stdlib -o "$work/runtime-static" bench/c/hello.swift
# As scripts/build links pixelgate now: libstdc++ and libgcc's unwinder too.
swiftc -O -static-stdlib -L "$link" -Xlinker --no-export-dynamic -o "$work/shipped" bench/c/hello.swift
# The same without position independence (no ASLR for the program itself).
swiftc -O -static-stdlib -L "$link" -Xlinker --no-export-dynamic -Xclang-linker -no-pie -o "$work/no-pie" bench/c/hello.swift
# Everything static, glibc too (then libcurl could not be dlopen()ed safely).
swiftc -O -static-executable -o "$work/all-static" bench/c/hello.swift 2>/dev/null

programs=(c runtime-static shipped no-pie all-static)
hyperfine -N --warmup 30 --runs 300 --style none --export-json "$work/h.json" \
  "${programs[@]/#/$work/}" >/dev/null 2>&1
for p in "${programs[@]}"; do
  libraries=$(ldd "$work/$p" 2>/dev/null | grep -c '=>' || true)
  faults=$(for _ in 1 2 3 4 5; do /usr/bin/time -f %R "$work/$p" 2>&1 >/dev/null; done | sort -n | sed -n 3p)
  echo "$p $libraries $faults"
done > "$work/facts"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
results = json.load(open(work + "/h.json"))["results"]
facts = [line.split() for line in open(work + "/facts")]
names = {
    "c": "C program (`bench/c/cgi.c`)",
    "runtime-static": "Swift, static Swift runtime (pixelgate's link before)",
    "shipped": "Swift, + libstdc++ and unwinder static, no `--export-dynamic` (`scripts/build` now)",
    "no-pie": "the same, not position-independent",
    "all-static": "Swift, `-static-executable` (glibc static too)",
}
c = results[0]["median"]
print("| program | median per start | ÷ C | shared libraries | page faults |")
print("|---|---|---|---|---|")
for r, (name, libraries, faults) in zip(results, facts):
    print("| %s | %.2f ms | %.2f× | %s | %s |" % (names[name], r["median"] * 1000, r["median"] / c, libraries, faults))
PY
