import Foundation
import Testing

/// The FastCGI door (issue 25): record streams a local user can send to
/// `serve` (its defaults and `--threads 1`) and to FastCGI on standard
/// input neither kill a worker, nor stall hits, nor spin, nor run the
/// descriptors out; pipelined requests are each answered. Each test is a
/// finding of the hostile review of f5d6bae, which it failed.
@Suite("The FastCGI door takes only what libfcgi can")
struct DoorTests {
    typealias Way = StallTests.Way

    /// BEGIN_REQUEST (responder) for request `id`, flags `flags`.
    static func begin(_ id: UInt16 = 1, flags: UInt8 = 0) -> [UInt8] {
        record(1, id, [0, 1, flags, 0, 0, 0, 0, 0])
    }

    static func record(_ type: UInt8, _ id: UInt16, _ content: [UInt8]) -> [UInt8] {
        let padding = (8 - content.count % 8) % 8
        return [1, type, UInt8(id >> 8), UInt8(id & 0xFF), UInt8(content.count >> 8), UInt8(content.count & 0xFF), UInt8(padding), 0]
            + content + [UInt8](repeating: 0, count: padding)
    }

    /// The process's CPU time so far, in seconds (utime + stime).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Hits sent beside an attack: each must be answered 200 within
    /// `seconds` (the request timeout is 10 s, which a stall waited for).
    static func hitsAreAnswered(_ client: FastCGIClient, _ count: Int, tag: String, within seconds: Double = 5) -> Bool {
        let hits = (0..<count).map { PendingGet(client, "/pixel/v1/page?writeKey=wk&anonymousId=\(tag)\($0)") }
        return hits.allSatisfy { $0.answered(within: seconds) && $0.statuses == [200] }
    }

    /// Sends `stream` on `connections` connections: each must be closed
    /// having been answered fewer than 1,024 bytes, the worker must live on,
    /// and four hits after it are answered and stored.
    static func streamKillsNothing(_ way: Way, _ stream: [UInt8], connections: Int, tag: String) throws {
        let scratch = Scratch()
        let serve = try StallTests.start(way, scratch)
        let before = serve.worker
        var open: [Int32] = []
        for _ in 0..<connections {
            let fd = try serve.client.connect()
            StallTests.send(fd, stream)
            open.append(fd)
        }
        for fd in open {
            let (bytes, closed) = StallTests.readUntilClosed(fd, seconds: 5)
            #expect(closed && bytes.count < 1024, "answered \(bytes.count) bytes")
            close(fd)
        }
        #expect(Self.hitsAreAnswered(serve.client, 4, tag: tag))
        #expect(before.map { kill($0, 0) == 0 } ?? true, "the worker died")
        #expect(serve.stop())
        #expect(scratch.spoolLines.count == 4)
    }

    /// One FCGI_GET_VALUES asking for FCGI_MPXS_CONNS 3,700 times made an
    /// answer over 65,535 bytes, whose length trapped: the worker died.
    @Test(arguments: Way.allCases)
    func aHugeGetValuesKillsNothing(_ way: Way) throws {
        var names: [UInt8] = []
        for _ in 0..<3700 { names += [15, 0] + Array("FCGI_MPXS_CONNS".utf8) }
        try Self.streamKillsNothing(way, Self.record(9, 0, names), connections: 20, tag: "after-values")
    }

    /// A 72-byte PARAMS record declaring 2^30-byte lengths passed the gate,
    /// and libfcgi's malloc assertion aborted the worker.
    @Test(arguments: Way.allCases)
    func declaredLengthsPastTheBytesKillNothing(_ way: Way) throws {
        let content: [UInt8] = [0xC0, 0, 0, 0, 0xC0, 0, 0, 0] + [UInt8](repeating: 0x41, count: 56)
        try Self.streamKillsNothing(way, Self.begin() + Self.record(4, 1, content) + Self.record(4, 1, []) + Self.record(5, 1, []),
                                    connections: 5, tag: "after-lengths")
    }

    /// A BEGIN then an early ABORT, or records of another request id,
    /// passed the gate as complete; libfcgi then waited for the rest, and
    /// held a thread until the request timeout.
    @Test(arguments: Way.allCases)
    func requestsTheGateCalledCompleteStallNothing(_ way: Way) throws {
        let scratch = Scratch()
        let serve = try StallTests.start(way, scratch)
        let pair = FastCGIClient.lengthBytes(1) + FastCGIClient.lengthBytes(1) + Array("AB".utf8)
        let attacks: [[UInt8]] = [
            Self.begin(flags: 1) + Self.record(2, 1, []),
            Self.begin() + Self.record(4, 2, pair) + Self.record(4, 2, []) + Self.record(5, 2, []),
            Self.begin() + Self.record(4, 1, pair) + Self.record(4, 1, []) + Self.record(5, 7, []),
        ]
        var held: [Int32] = []
        for i in 0..<6 {
            let fd = try serve.client.connect()
            StallTests.send(fd, attacks[i % attacks.count])
            held.append(fd)
        }
        #expect(Self.hitsAreAnswered(serve.client, 4, tag: "beside"), "hits waited behind requests libfcgi could not finish")
        // The aborted request got its END_REQUEST, and the connection was kept.
        let (aborted, _) = StallTests.readUntilClosed(held[0], seconds: 1)
        #expect(aborted.count == 16 && aborted[1] == 3, "\(aborted)")
        for fd in held { close(fd) }
        #expect(serve.stop())
        #expect(scratch.spoolLines.count == 4)
    }

    /// A half-sent request on a parked connection stayed readable under
    /// level-triggered epoll while the gate only peeked: a core per
    /// connection until the timeout.
    @Test(arguments: Way.allCases)
    func halfSentRequestsDoNotSpin(_ way: Way) throws {
        let scratch = Scratch()
        let serve = try StallTests.start(way, scratch)
        let pid = try #require(serve.worker)
        let encoded = FastCGIClient.encode(FastCGIClient.params("/pixel/v1/page?writeKey=wk&anonymousId=slow"))
        var held: [Int32] = []
        for _ in 0..<4 {
            let fd = try serve.client.connect()
            StallTests.send(fd, Self.begin() + FastCGIClient.record(4, Array(encoded.prefix(30))))
            held.append(fd)
        }
        Thread.sleep(forTimeInterval: 0.3)
        let start = Self.cpuSeconds(pid)
        Thread.sleep(forTimeInterval: 2)
        let used = Self.cpuSeconds(pid) - start
        // Idle, a worker uses nothing; spinning on four connections it used
        // both cores (2 s of CPU here).
        #expect(used < 0.3, "the worker used \(used) s of CPU in 2 s with four half-sent requests")
        for fd in held { close(fd) }
        #expect(serve.stop())
    }

    /// A second request written behind the first on a kept connection was
    /// read into libfcgi's buffer and dropped: never answered or stored.
    @Test(arguments: Way.allCases)
    func pipelinedRequestsAreEachAnswered(_ way: Way) throws {
        let scratch = Scratch()
        let serve = try StallTests.start(way, scratch)
        let fd = try serve.client.connect()
        defer { close(fd) }
        var out: [UInt8] = []
        for i in 0..<3 {
            let encoded = FastCGIClient.encode(FastCGIClient.params("/pixel/v1/page?writeKey=wk&anonymousId=piped\(i)"))
            out += Self.begin(flags: i < 2 ? 1 : 0) + Self.record(4, 1, encoded) + Self.record(4, 1, []) + Self.record(5, 1, [])
        }
        StallTests.send(fd, out)
        let (bytes, closed) = StallTests.readUntilClosed(fd, seconds: 5)
        #expect(closed, "the last request did not ask to keep the connection")
        // Three answers, each ending in its END_REQUEST.
        var ends = 0
        var i = 0
        while i + 8 <= bytes.count {
            if bytes[i + 1] == 3 { ends += 1 }
            i += 8 + (Int(bytes[i + 4]) << 8 | Int(bytes[i + 5])) + Int(bytes[i + 6])
        }
        #expect(ends == 3, "\(ends) answers to 3 pipelined requests")
        #expect(serve.stop())
        let stored = scratch.spoolLines.joined()
        #expect(scratch.spoolLines.count == 3 && (0..<3).allSatisfy { stored.contains("piped\($0)") })
    }

    /// Descriptors ran out before parked connections did: accepts failed
    /// ten times a second per worker in the log, and hits waited. `serve`
    /// now raises its limit to the hard one, and a thread parks no more
    /// connections than its share of it.
    @Test func descriptorsDoNotRunOut() throws {
        let scratch = Scratch()
        let socketPath = scratch.path + "/pg.sock"
        let serve = try ChildProcess("/usr/bin/prlimit", ["--nofile=64:160", pixelgateBinary, "serve", "--listen", socketPath, "--workers", "1"],
                                     environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_REQUEST_TIMEOUT": "10s", "PATH": "/usr/bin:/bin"],
                                     log: scratch.path + "/serve.log")
        defer { _ = serve.stop() }
        #expect(waitForUnixSocket(socketPath))
        let client = FastCGIClient(address: .unix(socketPath))
        #expect(try client.get("/pixel/v1/page?writeKey=wk&anonymousId=first").status == 200)
        let worker = try #require(serve.children.first)
        let limits = (try? String(contentsOfFile: "/proc/\(worker)/limits", encoding: .utf8)) ?? ""
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }.map(String.init) ?? ""
        #expect(line.split(separator: " ").filter { !$0.isEmpty }.dropFirst(3).first == "160", "soft limit not raised: \(line)")
        var idle: [Int32] = []
        for _ in 0..<300 { if let fd = try? client.connect() { idle.append(fd) } }
        #expect(Self.hitsAreAnswered(client, 5, tag: "crowded"))
        for fd in idle { close(fd) }
        let log = (try? String(contentsOfFile: scratch.path + "/serve.log", encoding: .utf8)) ?? ""
        let shortages = log.split(separator: "\n").filter { $0.contains("Too many open files") || $0.contains("wait for their requests") }
        #expect(shortages.count <= 3, "\(shortages.count) lines about running out: \(shortages.prefix(3))")
        #expect(serve.stop())
        #expect(scratch.spoolLines.count == 6)
    }

    /// A client that pipelines requests and never reads the answers held
    /// its thread for as long as it liked, each answer a new timeout: now
    /// all a wake-up's answers share one, and other threads take hits.
    @Test func aClientThatDoesNotReadHoldsNoWorker() throws {
        let scratch = Scratch()
        let serve = try StallTests.start(.serveDefaults, scratch)
        let fd = try serve.client.connect()
        // 20,000 unknown management records: 160 KB in, 320 KB of answers.
        StallTests.send(fd, (0..<20_000).flatMap { _ in Self.record(42, 0, []) })
        #expect(Self.hitsAreAnswered(serve.client, 6, tag: "beside-slow"))
        // Cut off once the request timeout (10 s) has passed, not held on.
        var closed = false
        let deadline = Date().addingTimeInterval(30)
        while !closed && Date() < deadline {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { closed = true }
            if n <= 0 { Thread.sleep(forTimeInterval: 1) }  // read slowly: a little at a time
        }
        close(fd)
        #expect(closed, "the slow reader's connection was never closed")
        #expect(serve.stop())
        #expect(scratch.spoolLines.count == 6)
    }

    /// Every attack above, sent over and over on two threads while four
    /// clients send hits (100 each at least, and on until each attacker has
    /// made every attack three times): hits in = answered 200 = stored, the
    /// pipelined requests among the attacks are each answered and stored,
    /// and no worker died.
    @Test(arguments: Way.allCases)
    func attacksBesideALoadLoseNoHit(_ way: Way) throws {
        let scratch = Scratch()
        let serve = try StallTests.start(way, scratch)
        let worker = serve.worker
        let client = serve.client
        var names: [UInt8] = []
        for _ in 0..<3700 { names += [15, 0] + Array("FCGI_MPXS_CONNS".utf8) }
        let pair = FastCGIClient.lengthBytes(1) + FastCGIClient.lengthBytes(1) + Array("AB".utf8)
        let halfSent = Self.begin() + FastCGIClient.record(4, Array(FastCGIClient.encode(FastCGIClient.params("/pixel/v1/page?writeKey=wk&anonymousId=half")).prefix(30)))
        let attacks: [[UInt8]] = [
            Self.record(9, 0, names),
            Self.begin() + Self.record(4, 1, [0xC0, 0, 0, 0, 0xC0, 0, 0, 0] + [UInt8](repeating: 0x41, count: 56)) + Self.record(4, 1, []) + Self.record(5, 1, []),
            Self.begin(flags: 1) + Self.record(2, 1, []),
            Self.begin() + Self.record(4, 2, pair) + Self.record(4, 2, []) + Self.record(5, 2, []),
            Self.begin() + Self.record(4, 1, pair) + Self.record(4, 1, []) + Self.record(5, 7, []),
            (0..<2_000).flatMap { _ in Self.record(42, 0, []) },
        ]
        let stop = LockedArray<Bool>()
        let piped = LockedArray<(sent: Int, answered: Int)>()
        let tried = LockedArray<Int>()
        let attackers = DispatchGroup()
        for attacker in 0..<2 {
            attackers.enter()
            Thread.detachNewThread {
                var held: [Int32] = []
                var round = 0
                while stop.values.isEmpty {
                    defer { round += 1 }
                    guard let fd = try? client.connect() else { continue }
                    switch round % 8 {
                    case 6:  // half-sent, held open until the end (the door parks it)
                        StallTests.send(fd, halfSent)
                        if held.count < 16 { held.append(fd) } else { close(fd) }
                        tried.append(contentsOf: [round])
                        continue
                    case 7:  // two requests pipelined on one connection
                        var out: [UInt8] = []
                        for i in 0..<2 {
                            let params = FastCGIClient.encode(FastCGIClient.params("/pixel/v1/page?writeKey=wk&anonymousId=piped-\(attacker)-\(round)-\(i)"))
                            out += Self.begin(flags: i == 0 ? 1 : 0) + Self.record(4, 1, params) + Self.record(4, 1, []) + Self.record(5, 1, [])
                        }
                        StallTests.send(fd, out)
                        let (bytes, _) = StallTests.readUntilClosed(fd, seconds: 10)
                        var ends = 0, i = 0
                        while i + 8 <= bytes.count {
                            if bytes[i + 1] == 3 { ends += 1 }
                            i += 8 + (Int(bytes[i + 4]) << 8 | Int(bytes[i + 5])) + Int(bytes[i + 6])
                        }
                        piped.append(contentsOf: [(2, ends)])
                    default:
                        StallTests.send(fd, attacks[round % 8])
                        _ = StallTests.readUntilClosed(fd, seconds: 0.2)
                    }
                    close(fd)
                    tried.append(contentsOf: [round])
                }
                for fd in held { close(fd) }
                attackers.leave()
            }
        }
        let statuses = LockedArray<Int>()
        let clients = DispatchGroup()
        for c in 0..<4 {
            clients.enter()
            Thread.detachNewThread {
                var i = 0
                while i < 100 || (tried.values.count < 2 * 8 * 3 && i < 5_000) {
                    statuses.append(contentsOf: [(try? client.get("/pixel/v1/page?writeKey=wk&anonymousId=load-\(c)-\(i)").status ?? -1) ?? -2])
                    i += 1
                }
                clients.leave()
            }
        }
        // A stall guard, not a speed check: the request timeout is 10 s.
        let finished = clients.wait(timeout: .now() + 180) == .success
        stop.append(contentsOf: [true])
        #expect(attackers.wait(timeout: .now() + 30) == .success)
        #expect(finished, "the hits were not all answered in 180 s")
        let kinds = Set(tried.values.map { $0 % 8 })
        #expect(kinds.count == 8, "only attacks \(kinds.sorted()) were made")
        let hits = statuses.values
        let stored = scratch.spoolLines
        let storedLoad = stored.filter { $0.contains("\"load-") }.count
        let storedPiped = stored.filter { $0.contains("\"piped-") }.count
        let pipedSent = piped.values.reduce(0) { $0 + $1.sent }, pipedAnswered = piped.values.reduce(0) { $0 + $1.answered }
        #expect(hits.count >= 400 && hits.allSatisfy { $0 == 200 }, "of \(hits.count) hits: \(Dictionary(grouping: hits, by: { $0 }).mapValues(\.count))")
        #expect(storedLoad == hits.count, "\(hits.count) hits in, \(hits.filter { $0 == 200 }.count) answered 200, \(storedLoad) stored")
        #expect(pipedSent > 0 && pipedAnswered == pipedSent && storedPiped == pipedSent,
                "pipelined: \(pipedSent) sent, \(pipedAnswered) answered, \(storedPiped) stored")
        #expect(stored.count == storedLoad + storedPiped, "something else was stored")
        #expect(worker.map { kill($0, 0) == 0 } ?? true, "the worker died")
        #expect(serve.stop())
    }
}
