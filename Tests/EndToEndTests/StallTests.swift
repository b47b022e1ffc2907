import Foundation
import Testing

/// No stalls (SPEC §7a): `serve` with its defaults (2 workers × 2 threads),
/// with one thread, and pixelgate on a socket handed over on stdin
/// keeps answering while many connections sit idle or half-sent, closes
/// them when they miss the request timeout, caps a request's parameters,
/// and answers FastCGI's management and other-role records itself.
@Suite("serve is not stalled by idle or half-sent connections")
struct StallTests {
    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Reads until the peer closes or `seconds` pass; the bytes and whether it closed.
    static func readUntilClosed(_ fd: Int32, seconds: Double) -> (bytes: [UInt8], closed: Bool) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (out, true) }
            out += buffer[0..<n]
        }
        return (out, false)
    }

    static let begin = FastCGIClient.record(1, [0, 1, 0, 0, 0, 0, 0, 0])

    /// Every way pixelgate takes FastCGI connections itself.
    enum Way: String, CaseIterable, CustomTestStringConvertible {
        /// `serve` with its defaults: 2 workers × 2 threads.
        case serveDefaults
        /// `serve --threads 1`, which used libfcgi's own accept.
        case serveOneThread
        /// The socket on stdin (spawn-fcgi, systemd's socket, mod_fcgid),
        /// which used libfcgi's own accept too.
        case socketOnStdin
        var testDescription: String { rawValue }
    }

    /// The server for `way` on a unix socket, and how to stop it (true: stopped cleanly).
    static func start(_ way: Way, _ scratch: Scratch) throws -> (client: FastCGIClient, worker: Int32?, stop: () -> Bool) {
        let environment = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_REQUEST_TIMEOUT": "10s"]
        let socketPath = scratch.path + "/pg.sock"
        switch way {
        case .serveDefaults, .serveOneThread:
            let serve = try ServeProcess(listen: socketPath, workers: 2, threads: way == .serveOneThread ? 1 : nil, environment: environment)
            return (serve.client, serve.workerPIDs.first, { serve.stop().status == 0 })
        case .socketOnStdin:
            let spawned = try Daemon("spawn-fcgi", "/usr/bin/spawn-fcgi", ["-n", "-s", socketPath, "--", pixelgateBinary],
                                     environment: environment, log: scratch.path + "/spawned.log")
            guard waitForUnixSocket(socketPath) else { throw TestFailure("spawn-fcgi: \(spawned.logText)") }
            // spawn-fcgi -n execs pixelgate in its own place.
            return (FastCGIClient(address: .unix(socketPath)), spawned.child.pid, { spawned.stop() && spawned.child.exitCode == 0 })
        }
    }

    @Test(arguments: Way.allCases)
    func manyIdleAndHalfSentConnectionsDoNotStopIt(_ way: Way) throws {
        let scratch = Scratch()
        let serve = try StallTests.start(way, scratch)
        // Ten times workers × threads: idle ones, ones that stop inside the
        // parameters, ones that never finish stdin.
        var stalled: [Int32] = []
        let encoded = FastCGIClient.encode(FastCGIClient.params("/pixel/v1/page?writeKey=wk&anonymousId=stalled"))
        for i in 0..<40 {
            let fd = try serve.client.connect()
            switch i % 3 {
            case 0: break  // idle
            case 1: StallTests.send(fd, StallTests.begin + FastCGIClient.record(4, Array(encoded.prefix(20))))
            default: StallTests.send(fd, StallTests.begin + FastCGIClient.record(4, encoded) + FastCGIClient.record(4, []))
            }
            stalled.append(fd)
        }
        // Real hits are answered while every stalled connection is still
        // open (before, the first of them waited for ever).
        for i in 0..<20 {
            let hit = PendingGet(serve.client, "/pixel/v1/page?writeKey=wk&anonymousId=real\(i)")
            #expect(hit.answered(within: 30) && hit.statuses == [200])
        }
        #expect(stalled.allSatisfy { !StallTests.readUntilClosed($0, seconds: 0).closed }, "hits waited for stalled connections to time out")
        // The stalled ones are closed once the request timeout passes.
        for fd in stalled {
            #expect(StallTests.readUntilClosed(fd, seconds: 25).closed)
            close(fd)
        }
        #expect(serve.stop())
        #expect(scratch.spoolLines.count == 20)
    }

    /// The Authorizer and Filter roles are not pixelgate's: FCGI_UNKNOWN_ROLE,
    /// nothing recorded. FCGI_GET_VALUES is answered.
    @Test func otherRolesAreRefusedAndGetValuesAnswered() throws {
        let scratch = Scratch()
        let serve = try ServeProcess(listen: scratch.path + "/pg.sock", workers: 1, environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        for role: UInt8 in [2, 3] {
            let fd = try serve.client.connect()
            var out = FastCGIClient.record(1, [0, role, 0, 0, 0, 0, 0, 0])
            let encoded = FastCGIClient.encode(FastCGIClient.params("/pixel/v1/page?writeKey=wk&anonymousId=role\(role)"))
            out += FastCGIClient.record(4, encoded) + FastCGIClient.record(4, []) + FastCGIClient.record(5, [])
            StallTests.send(fd, out)
            let (bytes, closed) = StallTests.readUntilClosed(fd, seconds: 5)
            close(fd)
            #expect(closed)
            #expect(bytes.count == 16 && bytes[1] == 3 && bytes[12] == 3, "END_REQUEST with FCGI_UNKNOWN_ROLE: \(bytes)")
        }
        let fd = try serve.client.connect()
        var names: [UInt8] = []
        for name in ["FCGI_MAX_CONNS", "FCGI_MPXS_CONNS"] { names += [UInt8(name.utf8.count), 0] + Array(name.utf8) }
        let header: [UInt8] = [1, 9, 0, 0, 0, UInt8(names.count), 0, 0]
        StallTests.send(fd, header + names)
        var got: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        let deadline = Date().addingTimeInterval(5)
        while got.count < 8 || got.count < 8 + (Int(got[4]) << 8 | Int(got[5])), Date() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got += buffer[0..<n]
        }
        close(fd)
        #expect(got.count >= 8 && got[1] == 10, "FCGI_GET_VALUES_RESULT: \(got)")
        let text = String(decoding: got, as: UTF8.self)
        #expect(text.contains("FCGI_MAX_CONNS") && text.contains("FCGI_MPXS_CONNS0"), "\(text)")
        #expect(try serve.client.get("/pixel/v1/page?writeKey=wk&anonymousId=after").status == 200)
        #expect(serve.stop().status == 0)
        #expect(scratch.spoolLines.count == 1)
    }

    /// 100 MB of parameters used to grow a worker by as much.
    @Test(arguments: Way.allCases)
    func parametersAreCapped(_ way: Way) throws {
        let scratch = Scratch()
        let serve = try StallTests.start(way, scratch)
        let worker = try #require(serve.worker)
        let fd = try serve.client.connect()
        StallTests.send(fd, StallTests.begin)
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: 60_000)
        let pair = FastCGIClient.lengthBytes(1) + FastCGIClient.lengthBytes(value.count) + [UInt8(ascii: "X")] + value
        var closedEarly = false
        for _ in 0..<1700 {  // about 100 MB, unless the server closes first
            let record = FastCGIClient.record(4, pair)
            let n = record.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { closedEarly = true; break }
        }
        close(fd)
        #expect(closedEarly, "the server read 100 MB of parameters")
        let status = (try? String(contentsOfFile: "/proc/\(worker)/status", encoding: .utf8)) ?? ""
        let rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        // 100 MB read would show whatever the build; a sanitizer's shadow
        // memory alone takes a worker past 32 MiB (33.7 MiB under TSan).
        let boundKiB = ProcessInfo.processInfo.environment["PIXELGATE_SANITIZER"] == nil ? 32 * 1024 : 64 * 1024
        #expect(rssKiB > 0 && rssKiB < boundKiB, "worker RSS \(rssKiB) KiB")
        // A 1 MB query (no web server sends one) gets the same: closed.
        let long = try? serve.client.get("/pixel/v1/page?writeKey=wk&anonymousId=a&p=" + String(repeating: "x", count: 1 << 20))
        #expect(long == nil || long?.status != 200)
        // The worker goes on serving, and stored only that hit.
        #expect(try serve.client.get("/pixel/v1/page?writeKey=wk&anonymousId=after").status == 200)
        #expect(serve.stop())
        #expect(scratch.spoolLines.count == 1)
    }
}
