// Micro-benchmarks of pixelgate's in-process parts, printed as Markdown.
//
//   swift run -c release pixelgate-bench [spool-directory]
//
// Each figure is the median of several rounds; rounds run back to back in
// one process so the ratios compare like with like on a noisy machine.
#if canImport(Glibc)
import Glibc
#endif
import PixelCore
import PixelSpool

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Median nanoseconds per operation over `rounds` rounds of `count` operations.
func measure(rounds: Int, count: Int, _ body: (Int) throws -> Void) rethrows -> Double {
    var perOp: [Double] = []
    for _ in 0..<rounds {
        let start = monotonicNanos()
        for i in 0..<count { try body(i) }
        perOp.append(Double(monotonicNanos() - start) / Double(count))
    }
    perOp.sort()
    return perOp[perOp.count / 2]
}

func format(_ nanos: Double) -> String {
    nanos >= 1_000_000 ? String(format3(nanos / 1_000_000)) + " ms" : nanos >= 1000 ? format3(nanos / 1000) + " µs" : format3(nanos) + " ns"
}

func format3(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return String(scaled)
}

// The seed's AMP sample page URL, placeholders filled in.
let ampPage = "writeKey=2AbCwk&context.library.name=Rudderstack%20AMP%20SDK&context.library.version=1.0.0&context.platform=AMP&anonymousId=amp-3f2a9c&context.locale=en-US&context.userAgent=Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_0)&context.page.path=%2Fblog%2Fpost&context.page.url=https%3A%2F%2Fexample.com%2Fblog%2Fpost&context.page.referrer=https%3A%2F%2Fnews.example%2F&context.page.title=Hello%20World&context.screen.width=390&context.screen.height=844&properties.path=%2Fblog%2Fpost&properties.url=https%3A%2F%2Fexample.com%2Fblog%2Fpost&properties.referrer=https%3A%2F%2Fnews.example%2F&properties.title=Hello%20World&name=Blog%20Post"

let query = Array(ampPage.utf8)

/// The bytes of a query file (bench/query.sh output); empty if unreadable.
func readQuery(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "r") else { return [] }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var c = fgetc(file)
    while c != EOF {
        bytes.append(UInt8(c))
        c = fgetc(file)
    }
    return bytes
}
// With the default secret-name check, as every hit runs it.
let facts = HitFacts(receivedAtMillis: 1_795_785_972_345, messageId: "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b", userAgent: "Mozilla/5.0",
                     clientIP: "203.0.113.7", secretNames: .default)
/// Every hit is classed by its headers and its address first: a current
/// browser's agent from an address in no published list is the common
/// case, and goes through every rule and every list a hit searches.
let browserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
@inline(never) func classify() -> HitClass {
    return TrafficClassifier.standard.classify(address: "203.0.113.7", header: { $0 == .userAgent ? browserAgent : nil }).hitClass
}
var classes = 0

// `pixelgate-bench fill DIR N [PER]`: N events of the AMP sample (each with
// its own messageId) appended to the spool in DIR, for the drain benchmark.
// With PER, visitors' addresses change: each address has PER events, the
// hundred addresses of a block of 100 × PER events taking turns (as
// visitors' hits interleave); without it, every event has one address.
let fillArguments = CommandLine.arguments.count
if fillArguments == 4 || fillArguments == 5, CommandLine.arguments[1] == "fill", let n = Int(CommandLine.arguments[3]) {
    let perAddress = fillArguments == 5 ? Int(CommandLine.arguments[4]) ?? 0 : 0
    let writer = SpoolWriter(directory: CommandLine.arguments[2])
    var ids = SystemRandomNumberGenerator()
    for i in 0..<n {
        var f = facts
        f.messageId = UUIDText.v4(ids.next(), ids.next())
        if perAddress > 0 {
            let visitor = i / (100 * perAddress) * 100 + i % 100
            f.clientIP = "10.\(visitor >> 16 & 255).\(visitor >> 8 & 255).\(visitor & 255)"
        }
        try writer.append(try EventEngine.build(type: .page, query: ampPage, facts: f).recordLine)
    }
    exit(0)
}

// `pixelgate-bench profile N`: only the core, N times, for a profiler
// (`perf record`, `valgrind --tool=callgrind`).
// `pixelgate-bench profile N FILE` profiles the query in FILE instead.
if CommandLine.arguments.count >= 3, CommandLine.arguments[1] == "profile", let n = Int(CommandLine.arguments[2]) {
    let profiled = CommandLine.arguments.count > 3 ? readQuery(CommandLine.arguments[3]) : query
    var bytes = 0
    let workspace = EventWorkspace()
    for _ in 0..<n {
        if classify() == .human { classes += 1 }
        bytes += profiled.withUnsafeBufferPointer { try! EventEngine.build(type: .page, query: $0, facts: facts, workspace: workspace).recordLine.count }
    }
    print(bytes / n, "bytes a line,", classes, "human")
    exit(0)
}

let directory = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/var/tmp/pixelgate-bench-\(getpid())"

var sink: [UInt8] = []
// One workspace for all hits, as a serving thread keeps one.
let workspace = EventWorkspace()
let core = measure(rounds: 15, count: 20_000) { _ in
    if classify() == .human { classes += 1 }
    let line = query.withUnsafeBufferPointer { buffer -> [UInt8] in
        try! EventEngine.build(type: .page, query: buffer, facts: facts, workspace: workspace).recordLine
    }
    sink = line
}
let line = sink

print("| what | median per event | events/s | vs. fsync never |")
print("|---|---|---|---|")
print("| core: class the agent, parse + map + encode the AMP sample page URL (\(query.count) B query → \(line.count) B line) | \(format(core)) | \(Int(1e9 / core)) | — |")
// Further arguments: files holding larger queries (bench/query.sh SIZE), for
// how the core grows with the query.
for path in CommandLine.arguments.dropFirst(2) {
    let bytes = readQuery(path)
    var size = 0
    let t = measure(rounds: 7, count: 4_000) { _ in
        if classify() == .human { classes += 1 }
        size = bytes.withUnsafeBufferPointer { try! EventEngine.build(type: .page, query: $0, facts: facts, workspace: workspace).recordLine.count }
    }
    print("| core, \(bytes.count) B query → \(size) B line | \(format(t)) | \(Int(1e9 / t)) | — |")
}

var never = 0.0
for (name, policy, count) in [("never", FsyncPolicy.never, 20_000), ("1s", .interval(millis: 1000), 20_000), ("always", .always, 1_000)] {
    var settings = SpoolSettings()
    settings.fsync = policy
    let dir = directory + "/" + name
    let writer = SpoolWriter(directory: dir, settings: settings)
    let t = try measure(rounds: 5, count: count) { _ in try writer.append(line) }
    if policy == .never { never = t }
    print("| spool append, fsync \(name) (\(count) lines a round) | \(format(t)) | \(Int(1e9 / t)) | \(policy == .never ? "1×" : format3(t / never) + "×") |")
    _ = system("rm -rf '\(dir)'")
}
_ = system("rm -rf '\(directory)'")
