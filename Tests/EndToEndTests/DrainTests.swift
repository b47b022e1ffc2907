import Foundation
import Testing

@Suite("Forwarding and the drain (SPEC §6)")
struct DrainTests {
    /// Hits through `pixelgate serve`, answered 200 each; returns their anonymousIds.
    @discardableResult
    func hit(_ count: Int, scratch: Scratch, environment: [String: String], writeKey: String = "wk", prefix: String = "v") throws -> [String] {
        var env = environment
        env["PIXELGATE_SPOOL_DIR"] = scratch.spool
        let serve = try ServeProcess(listen: scratch.path + "/hit-\(UUID().uuidString.prefix(6)).sock", workers: 2, environment: env)
        var ids: [String] = []
        for i in 0..<count {
            let id = "\(prefix)\(i)"
            let r = try serve.client.get("/pixel/v1/track?writeKey=\(writeKey)&anonymousId=\(id)&event=Open&properties.n=\(i)")
            guard r.status == 200 else { throw TestFailure("hit \(i): \(r.status ?? -1) \(r.body)") }
            ids.append(id)
        }
        guard serve.stop().status == 0 else { throw TestFailure("serve did not stop cleanly") }
        return ids
    }

    func drain(_ scratch: Scratch, url: String, maxSeconds: Int = 60, extra: [String: String] = [:]) throws -> ProcessResult {
        var env = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": url]
        for (k, v) in extra { env[k] = v }
        return try runPixelgate(["drain", "--once", "--max-seconds", String(maxSeconds)], environment: env)
    }

    /// Accepted-event files left in the spool.
    func spoolFiles(_ scratch: Scratch) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scratch.spool)) ?? []).filter { $0.hasSuffix(".ndjson") }
    }

    @Test func forwardModeDeliversEachHitAtOnce() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let ids = try hit(5, scratch: scratch, environment: ["PIXELGATE_SINK": "forward", "PIXELGATE_DATA_PLANE_URL": receiver.url])
        let got = try receiver.received()
        #expect(got.map { $0.event["anonymousId"] as? String ?? "" }.sorted() == ids.sorted())
        #expect(got.allSatisfy { $0.writeKey == "wk" && $0.event["type"] as? String == "track" })
        #expect(scratch.spoolLines.isEmpty)
    }

    @Test func forwardModeSpoolsWhileTheDataPlaneIsDownAndTheDrainDeliversLater() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")  // not started: connections refused
        let ids = try hit(10, scratch: scratch, environment: ["PIXELGATE_SINK": "forward", "PIXELGATE_DATA_PLANE_URL": receiver.url])
        #expect(scratch.spoolLines.count == 10)
        let down = try drain(scratch, url: receiver.url, maxSeconds: 1)
        #expect(down.status == 75)  // EX_TEMPFAIL: run again later
        #expect(down.stderr.contains("data plane unavailable"))
        #expect(scratch.spoolLines.count == 10)

        try receiver.start()
        let up = try drain(scratch, url: receiver.url)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stderr.contains("10 events delivered"))
        let got = try receiver.received()
        #expect(got.map { $0.event["anonymousId"] as? String ?? "" }.sorted() == ids.sorted())
        #expect(Set(got.map { $0.event["messageId"] as? String ?? "" }).count == 10)
        #expect(spoolFiles(scratch).isEmpty)
    }

    /// A drain that waits says for what and until when: every retry line
    /// names the data plane and when the pass gives up (the lines named
    /// neither, and a first drain against a wrong URL looked hung).
    @Test func retryLinesNameTheDataPlaneAndTheDeadline() throws {
        let scratch = Scratch()
        try hit(3, scratch: scratch, environment: [:])
        let url = "http://user:secret@127.0.0.1:\(freePort())"
        let down = try drain(scratch, url: url, maxSeconds: 3)
        #expect(down.status == 75, "\(down.stderr)")
        let retries = down.stderr.split(separator: "\n").filter { $0.contains("retrying in") }
        #expect(!retries.isEmpty, "\(down.stderr)")
        for line in retries {
            #expect(line.contains("data plane http://***@127.0.0.1:") && line.contains("giving up this pass in"), "\(line)")
            #expect(!line.contains("secret"))
        }
        #expect(scratch.spoolLines.count == 3)
    }

    /// `https://` to a port that speaks plain HTTP is a wrong setting, not
    /// an outage: the drain stops at once with 78, as `check --connect`
    /// says, where it retried for minutes and exited 75 for cron to retry
    /// for ever. Nothing is lost.
    @Test func tlsToAPlainHTTPPortIsAConfigurationError() throws {
        let scratch = Scratch()
        try hit(2, scratch: scratch, environment: [:])
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let url = receiver.url.replacingOccurrences(of: "http://", with: "https://")
        let drained = try drain(scratch, url: url, maxSeconds: 30)
        #expect(drained.status == 78, "\(drained.stderr)")
        #expect(drained.stderr.contains("not reached") && drained.stderr.contains("scheme, host and port"), "\(drained.stderr)")
        #expect(!drained.stderr.contains("retrying in"))
        #expect(scratch.spoolLines.count == 2)
        let check = try runPixelgate(["check", "--connect", "--write-key", "wk"],
                                     environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": url])
        #expect(check.status == 78, "\(check.stdoutText)")
    }

    /// A pass in which the data plane refused every event is no success:
    /// a warning saying where they are and what to do, and exit 65; one in
    /// which some arrived is still 0.
    @Test func aPassWithEveryEventRefusedExits65() throws {
        let scratch = Scratch()
        // Plain CGI hits: this test is about the drain, and has no serve to stop.
        func cgiHits(_ count: Int, prefix: String) throws -> [String] {
            try (0..<count).map { i in
                let id = "\(prefix)\(i)"
                let r = try runPixelgate([], environment: cgiEnvironment("/pixel/v1/track?writeKey=wk&anonymousId=\(id)&event=Open",
                                                                         spool: scratch.spool))
                guard r.stdoutText.hasPrefix("Status: 200") else { throw TestFailure("hit \(id): \(r.stdoutText)") }
                return id
            }
        }
        let ids = try cgiHits(4, prefix: "v")
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", refuseIds: ids)
        try receiver.start()
        let all = try drain(scratch, url: receiver.url)
        #expect(all.status == 65, "\(all.stderr)")
        #expect(all.stderr.contains("0 events delivered") && all.stderr.contains("4 refused") && all.stderr.contains("every event was refused"),
                "\(all.stderr)")
        #expect(try receiver.received().isEmpty)
        _ = try cgiHits(2, prefix: "ok")
        let some = try drain(scratch, url: receiver.url)
        #expect(some.status == 0, "\(some.stderr)")
        #expect(try receiver.received().count == 2)
    }

    @Test func drainRetriesFailuresAndHonoursRetryAfter() throws {
        let scratch = Scratch()
        let ids = try hit(30, scratch: scratch, environment: [:])
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        try receiver.inject(["500", "drop", "429 1", "503"])
        let result = try drain(scratch, url: receiver.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.pendingFaults == 0)
        #expect(result.stderr.contains("HTTP 429"))
        #expect(try receiver.received().map { $0.event["anonymousId"] as? String ?? "" }.sorted() == ids.sorted())
        #expect(spoolFiles(scratch).isEmpty)
    }

    @Test func unreadableLinesAreSetAsideNeverSent() throws {
        let scratch = Scratch()
        try hit(2, scratch: scratch, environment: [:])
        // A writer killed mid-line, sealed before anyone repaired it.
        let current = scratch.spool + "/current.ndjson"
        let handle = try #require(FileHandle(forWritingAtPath: current))
        handle.seekToEndOfFile()
        handle.write(Data("garbage that is not a record\n".utf8))
        handle.write(Data(#"{"writeKey":"wk","event":{"type":"track","anonymousId":"torn","ev"#.utf8))
        try handle.close()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let result = try drain(scratch, url: receiver.url)
        #expect(result.status == 0, "\(result.stderr)")
        let got = try receiver.received()
        #expect(got.count == 2)
        #expect(!got.contains { $0.event["anonymousId"] as? String == "torn" })
        let setAside = try String(contentsOfFile: scratch.spool + "/rejected/unreadable.ndjson", encoding: .utf8).split(separator: "\n")
        #expect(setAside.count == 2)
        #expect(spoolFiles(scratch).isEmpty)
    }

    @Test func twoDrainsAtOnceNeverSendAFileTwice() throws {
        let scratch = Scratch()
        let ids = try hit(600, scratch: scratch, environment: ["PIXELGATE_SEAL_BYTES": "16k"])
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let statuses = Counter()
        let url = receiver.url
        onThreads(2) { _ in
            if let r = try? self.drain(scratch, url: url, extra: ["PIXELGATE_BATCH_BYTES": "8k"]), r.status == 0 { statuses.add() }
        }
        #expect(statuses.value == 2)
        let got = try receiver.received()
        #expect(got.count == 600)
        #expect(Set(got.map { $0.event["messageId"] as? String ?? "" }).count == 600)
        #expect(Set(got.map { $0.event["anonymousId"] as? String ?? "" }) == Set(ids))
        #expect(spoolFiles(scratch).isEmpty)
    }

    /// One drain at a time on a spool: a run that finds another at work
    /// (here the test holds the drain's lock) ends at once with exit 0 and
    /// sends nothing; the next run sends everything, once.
    @Test func aDrainFindingAnotherAtWorkEndsAtOnce() throws {
        let scratch = Scratch()
        let ids = try hit(20, scratch: scratch, environment: [:])
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let lock = open(scratch.spool + "/.drain.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(lock >= 0 && flock(lock, LOCK_EX) == 0)
        let busy = try drain(scratch, url: receiver.url)
        #expect(busy.status == 0, "\(busy.stderr)")
        #expect(busy.stderr.contains("another drain is at work on \(scratch.spool): nothing to do"), "\(busy.stderr)")
        #expect(try receiver.received().isEmpty)
        close(lock)
        let next = try drain(scratch, url: receiver.url)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try receiver.received().compactMap { $0.event["anonymousId"] as? String }.sorted() == ids.sorted())
    }

    @Test func aDrainKilledMidwayResumesWithoutLossAndFewDuplicates() throws {
        let scratch = Scratch()
        let ids = try hit(400, scratch: scratch, environment: ["PIXELGATE_SEAL_BYTES": "1M"])
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        // The first four requests (one round, sent at once) land, then the
        // next four hang: the drain is killed with progress saved mid-file
        // and four requests in flight, none of which the data plane kept.
        try receiver.inject(["ok", "ok", "ok", "ok", "slow 3", "slow 3", "slow 3", "slow 3"])
        let env = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": receiver.url, "PIXELGATE_BATCH_BYTES": "4k"]
        let first = try ChildProcess(pixelgateBinary, ["drain", "--once"], environment: env, log: scratch.path + "/drain1.log")
        #expect(waitUntil { receiver.pendingFaults == 0 })
        kill(first.pid, SIGKILL)
        _ = first.stop()
        let deliveredBeforeKill = try receiver.received().count
        #expect(deliveredBeforeKill > 0 && deliveredBeforeKill < 400)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.spool).contains { $0.hasSuffix(".progress") })
        let second = try drain(scratch, url: receiver.url, extra: ["PIXELGATE_BATCH_BYTES": "4k"])
        #expect(second.status == 0, "\(second.stderr)")
        let got = try receiver.received()
        #expect(Set(got.map { $0.event["anonymousId"] as? String ?? "" }) == Set(ids))
        // Nothing delivered before the kill was sent again (the batches in
        // flight were refused by the slow answers, so they are no duplicates).
        #expect(got.count == 400)
        #expect(Set(got.map { $0.event["messageId"] as? String ?? "" }).count == 400)
        #expect(spoolFiles(scratch).isEmpty)
    }

    @Test func followPicksUpNewHitsAndStopsOnSIGTERM() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let env = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": receiver.url, "PIXELGATE_SEAL_SECONDS": "1"]
        let follower = try ChildProcess(pixelgateBinary, ["drain", "--follow", "--interval", "1"], environment: env, log: scratch.path + "/follow.log")
        try hit(5, scratch: scratch, environment: ["PIXELGATE_SEAL_SECONDS": "1"], prefix: "first")
        #expect(waitUntil(seconds: 20) { ((try? receiver.received().count) ?? 0) == 5 })
        try hit(3, scratch: scratch, environment: ["PIXELGATE_SEAL_SECONDS": "1"], prefix: "second")
        #expect(waitUntil(seconds: 20) { ((try? receiver.received().count) ?? 0) == 8 })
        #expect(follower.stop(grace: 10))
        #expect(follower.exitCode == 0)
        #expect((try String(contentsOfFile: scratch.path + "/follow.log", encoding: .utf8)).contains("drain stopped"))
        #expect(spoolFiles(scratch).isEmpty)
    }

    /// Many rounds of a drain killed with SIGKILL at random moments against a
    /// faulty data plane: every event arrives, and copies come only from
    /// batches in flight at a kill.
    @Test func chaosKilledDrainsLoseNothing() throws {
        let scratch = Scratch()
        let ids = try hit(1_500, scratch: scratch, environment: ["PIXELGATE_SEAL_BYTES": "32k"])
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let env = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": receiver.url, "PIXELGATE_BATCH_BYTES": "8k"]
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for round in 0..<25 {
            let faults = (0..<6).map { _ in ["ok", "ok", "500", "503", "drop", "429 1", "slow 0.3"].randomElement(using: &generator)! }
            try receiver.inject(faults)
            let drain = try ChildProcess(pixelgateBinary, ["drain", "--once"], environment: env, log: scratch.path + "/chaos-\(round).log")
            usleep(UInt32.random(in: 20_000...300_000, using: &generator))
            if drain.isRunning {
                kill(drain.pid, SIGKILL)
                kills += 1
            }
            _ = drain.stop(grace: 5)
        }
        try receiver.inject([])
        let last = try drain(scratch, url: receiver.url, extra: ["PIXELGATE_BATCH_BYTES": "8k"])
        #expect(last.status == 0, "\(last.stderr)")
        let got = try receiver.received()
        #expect(Set(got.map { $0.event["anonymousId"] as? String ?? "" }) == Set(ids))
        // A batch of 8 KiB holds at most ~40 of these events; each kill can
        // leave at most one batch delivered but not recorded as such.
        let copies = got.count - Set(got.map { $0.event["messageId"] as? String ?? "" }).count
        #expect(copies <= kills * 40, "\(copies) copies after \(kills) kills")
        #expect(spoolFiles(scratch).isEmpty)
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: scratch.spool)) ?? []).contains { $0.hasSuffix(".progress") })
    }

    @Test func statsShowsTheBacklogAndRejected() throws {
        let scratch = Scratch()
        try hit(5, scratch: scratch, environment: [:])
        _ = try runPixelgate(environment: cgiEnvironment("/pixel/v1/track?writeKey=wk", spool: scratch.spool))
        let before = try jsonObject(try runPixelgate(["stats", "--json"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool]).stdoutText)
        let backlog = try #require(before["backlog"] as? [String: Any])
        #expect(backlog["files"] as? Int == 1)
        #expect(backlog["events"] as? Int == 5)
        #expect((backlog["bytes"] as? Int ?? 0) > 5 * 300)
        let age = try #require(backlog["oldestAgeSeconds"] as? Int)
        #expect(age >= 0 && age < 600)
        #expect((before["rejected"] as? [String: Any])?["records"] as? Int == 1)
        let text = try runPixelgate(["stats"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool]).stdoutText
        #expect(text.contains("backlog: 1 file(s), 5 events"))

        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        #expect(try drain(scratch, url: receiver.url).status == 0)
        let after = try jsonObject(try runPixelgate(["stats", "--json"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool]).stdoutText)
        let empty = try #require(after["backlog"] as? [String: Any])
        #expect(empty["events"] as? Int == 0)
        #expect(empty["oldestAgeSeconds"] is NSNull)
    }

    @Test func drainShowsProgressOnATerminal() throws {
        let scratch = Scratch()
        try hit(7, scratch: scratch, environment: [:])
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        // script(1) gives the drain a pseudo-terminal, as a person's shell would.
        let command = "PIXELGATE_SPOOL_DIR=\(scratch.spool) PIXELGATE_DATA_PLANE_URL=\(receiver.url) \(pixelgateBinary) drain --once"
        let shown = try runProcess("/usr/bin/script", ["-qfec", command, "/dev/null"], environment: ["PATH": "/usr/bin:/bin", "TERM": "dumb"]).stdoutText
        #expect(shown.contains("drain: 7 of 7 events"), "\(shown)")
        // To a person, sentences as git writes them; to a file, log lines.
        #expect(shown.contains("pixelgate: drained 1 file(s): 7 events delivered"), "\(shown)")
        #expect(!shown.contains("pixelgate["), "a log line's time and process id on a terminal: \(shown)")
        try hit(2, scratch: scratch, environment: [:])
        let logged = try drain(scratch, url: receiver.url)
        #expect(logged.stderr.contains(" pixelgate[") && logged.stderr.contains("] info: drained 1 file(s): 2 events delivered"), "\(logged.stderr)")
    }

    @Test(arguments: [("on", "gzip"), ("off", "identity")])
    func bodiesAreGzippedUnlessTurnedOff(_ setting: (String, String)) throws {
        let scratch = Scratch()
        let ids = try hit(300, scratch: scratch, environment: [:])
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let result = try drain(scratch, url: receiver.url, extra: ["PIXELGATE_GZIP": setting.0, "PIXELGATE_BATCH_BYTES": "32k"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.encodings.count > 1)
        #expect(receiver.encodings.allSatisfy { $0 == setting.1 }, "\(receiver.encodings)")
        #expect(try receiver.received().map { $0.event["anonymousId"] as? String ?? "" }.sorted() == ids.sorted())
    }

    @Test func forwardingGivesUpAtItsTimeoutAndSpools() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        try receiver.inject(["slow 3"])
        var env = cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=late", spool: scratch.spool)
        env["PIXELGATE_SINK"] = "forward"
        env["PIXELGATE_DATA_PLANE_URL"] = receiver.url
        env["PIXELGATE_FORWARD_TIMEOUT"] = "300ms"
        let result = try runPixelgate(environment: env)
        #expect(result.stdoutText.hasSuffix("\r\n\r\nOK"))
        #expect(result.stderr.contains("event spooled for the drain"))
        #expect(scratch.spoolLines.count == 1)
    }

    /// httpoxy: a CGI program gets the client's "Proxy:" header as HTTP_PROXY.
    /// Forwarding must not send events through it.
    @Test func forwardingIgnoresProxyVariablesFromTheRequest() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        var env = cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=proxied", spool: scratch.spool)
        env["PIXELGATE_SINK"] = "forward"
        env["PIXELGATE_DATA_PLANE_URL"] = receiver.url
        for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] { env[name] = "http://127.0.0.1:9" }
        let result = try runPixelgate(environment: env)
        #expect(result.stdoutText.hasSuffix("\r\n\r\nOK"))
        #expect(try receiver.received().map { $0.event["anonymousId"] as? String } == ["proxied"])
        #expect(scratch.spoolLines.isEmpty)
    }
}
