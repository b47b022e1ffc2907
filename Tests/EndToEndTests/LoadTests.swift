import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Load and process faults through real nginx (issue #6): every hit
/// answered 200 is a line in the spool, every line is whole and valid, and
/// every messageId is unique.
@Suite("Under load", .serialized)
struct LoadTests {
    /// nginx's access log: how many answers had each status.
    static func statuses(_ path: String) -> [String: Int] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").reduce(into: [:]) { $0[String($1), default: 0] += 1 }
    }

    /// Every spool file's newline-ended lines, each checked to be a spool
    /// record with a valid JSON event; returns the messageIds. A final
    /// line without its newline (a writer killed mid-write, not yet cut by
    /// the next append) is not an event and is counted apart.
    static func spoolMessageIds(_ spool: String) throws -> (ids: [String], tornTails: Int) {
        var ids: [String] = []
        var torn = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: spool) where name.hasSuffix(".ndjson") {
            let data = try Data(contentsOf: URL(fileURLWithPath: spool + "/" + name))
            var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() } else if !lines.isEmpty { lines.removeLast(); torn += 1 }
            for line in lines {
                let record = try jsonObject(String(decoding: line, as: UTF8.self))
                guard let event = record["event"] as? [String: Any], let id = event["messageId"] as? String else {
                    throw TestFailure("not a spool record: \(String(decoding: line.prefix(200), as: UTF8.self))")
                }
                ids.append(id)
            }
        }
        return (ids, torn)
    }

    @Test func wrkThroughNginxWhileCGIWritesTheSameSpool() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort(), cgiPort = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 2, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let socketPath = scratch.path + "/fcgiwrap.sock"
        let fcgiwrap = try Daemon("fcgiwrap", "/usr/sbin/fcgiwrap", ["-s", "unix:" + socketPath, "-c", "2"], log: scratch.path + "/fcgiwrap.log")
        #expect(waitForUnixSocket(socketPath))
        let serveConf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        let cgiConf = try shippedConfig("nginx-conf/pixelgate-fcgiwrap.conf", [
            ("127.0.0.1:8080", "127.0.0.1:\(cgiPort)"), ("unix:/run/fcgiwrap.socket", "unix:" + socketPath),
            ("/usr/local/lib/pixelgate/pixelgate", pixelgateBinary), ("/var/spool/pixelgate", spool),
        ])
        let log = scratch.path + "/access.log"
        let nginx = try startNginx(serverBlock: serveConf, port: port, in: scratch.path + "/nginx", extraServer: cgiConf, accessLog: log, workers: 2)
        #expect(waitForPort(cgiPort))

        // Plain CGI hits, one at a time, for as long as wrk runs.
        let done = LockedArray<Bool>()
        let cgiStatuses = LockedArray<String>()
        let cgiThread = Thread {
            var n = 0
            while done.values.isEmpty {
                let urls = (0..<20).flatMap { i in ["-o", "/dev/null", "http://127.0.0.1:\(cgiPort)/pixel/v1/track?writeKey=wk&anonymousId=cgi-\(n)-\(i)&event=Load"] }
                let out = (try? runProcess("/usr/bin/curl", ["-s", "-w", "%{http_code}\\n"] + urls, environment: nil).stdout) ?? []
                cgiStatuses.append(contentsOf: String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init))
                n += 1
            }
            done.append(contentsOf: [true])
        }
        cgiThread.start()
        let wrk = try runProcess("/usr/bin/wrk", ["-t2", "-c64", "-d30s", "http://127.0.0.1:\(port)/pixel/v1/page?writeKey=wk&anonymousId=wrk&context.page.url=https%3A%2F%2Fex.com%2F"],
                                 environment: nil)
        done.append(contentsOf: [true])
        #expect(waitUntil(seconds: 60) { done.values.count >= 2 })
        nginx.stop()
        fcgiwrap.stop()
        #expect(serve.stop().status == 0)

        let counts = LoadTests.statuses(log)
        let answered200 = counts["200", default: 0]
        let clientGone = counts["499", default: 0]  // wrk closing at its deadline
        #expect(counts.keys.allSatisfy { $0 == "200" || $0 == "499" }, "\(counts)")
        #expect(answered200 > 10_000, "\(counts)")
        #expect(cgiStatuses.values.filter { $0 == "200" }.count > 20)
        #expect(String(decoding: wrk.stdout, as: UTF8.self).contains("requests in"))

        let (ids, torn) = try LoadTests.spoolMessageIds(spool)
        print("load: nginx answered \(counts); \(cgiStatuses.values.count) of them plain CGI; \(ids.count) lines, \(Set(ids).count) distinct messageIds")
        // Every 200 is a line; a hit whose client left may be stored too.
        #expect(ids.count >= answered200 && ids.count <= answered200 + clientGone, "lines \(ids.count), \(counts)")
        #expect(Set(ids).count == ids.count)
        #expect(torn == 0)
    }

    @Test func sigkillMidWriteLeavesNoCorruptEventAndSigtermLosesNothing() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        // Small seal size: kills land in appends, seals and reopenings alike.
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 2,
                                     environment: ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_SEAL_BYTES": "65536"])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        let log = scratch.path + "/access.log"
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx", accessLog: log)

        // Long values, so a kill is likely to fall inside a write.
        let url = "http://127.0.0.1:\(port)/pixel/v1/page?writeKey=wk&anonymousId=k&properties.pad=" + String(repeating: "x", count: 12_000)
        let load = Thread { _ = try? runProcess("/usr/bin/wrk", ["-t2", "-c16", "-d8s", url], environment: nil) }
        load.start()
        // SIGKILL a worker every 150 ms; the supervisor starts a new one.
        var kills = 0
        let deadline = Date().addingTimeInterval(6)
        while Date() < deadline {
            usleep(150_000)
            if let victim = serve.workerPIDs.randomElement() {
                kill(victim, SIGKILL)
                kills += 1
            }
        }
        // Then SIGTERM the whole server while the load goes on.
        let stopped = serve.stop()
        #expect(stopped.status == 0, "\(stopped.log)")
        usleep(2_500_000)  // the rest of wrk's run, now against a closed port
        nginx.stop()
        #expect(kills >= 20)

        let counts = LoadTests.statuses(log)
        let answered200 = counts["200", default: 0]
        #expect(answered200 > 100, "\(counts)")
        // A killed worker's hit is a 502 (never a 200); after SIGTERM, 502s too.
        #expect(counts.keys.allSatisfy { ["200", "499", "502", "503", "504"].contains($0) }, "\(counts)")
        let (ids, torn) = try LoadTests.spoolMessageIds(spool)
        print("kill: \(kills) workers SIGKILLed, then SIGTERM; nginx answered \(counts); \(ids.count) lines, \(torn) torn tail(s)")
        #expect(ids.count >= answered200, "lines \(ids.count), \(counts)")
        #expect(Set(ids).count == ids.count)
        #expect(torn <= 1)
        // The drain reads the same files and sends only whole records.
        let receiver = DataPlaneReceiver(dir: scratch.path + "/receiver")
        try receiver.start()
        defer { receiver.stop() }
        let drain = try runPixelgate(["drain", "--once"], environment: ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_DATA_PLANE_URL": receiver.url])
        #expect(drain.status == 0, "\(drain.stderr)")
        #expect(try receiver.received().count == ids.count)
    }
}
