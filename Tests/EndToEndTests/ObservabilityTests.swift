import Foundation
import Testing

/// What an operator who runs pixelgate for a year looks at (issue 17): the
/// health answer, `stats` and its counters, the log's level and sampling,
/// the settings file's trust rules, `check` and `check --connect`, and the
/// command line's conventions. Through the release binary, as the web
/// server and cron run it.
@Suite("Telling the operator what is going on")
struct ObservabilityTests {
    static let noCache = "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nPragma: no-cache\r\nExpires: 0\r\n"

    /// A CGI hit; returns the whole answer and stderr.
    static func hit(_ uri: String, spool: String, method: String = "GET", extra: [String: String] = [:]) throws -> ProcessResult {
        try runPixelgate([], environment: cgiEnvironment(uri, method: method, spool: spool, extra: extra))
    }

    static func statsJSON(_ environment: [String: String]) throws -> [String: Any] {
        let stats = try runPixelgate(["stats", "--format", "json"], environment: environment)
        guard stats.status == 0 else { throw TestFailure("stats: \(stats.status) \(stats.stderr)") }
        return try jsonObject(stats.stdoutText)
    }

    // MARK: - Health

    /// 200 while the spool takes writes, 503 when it cannot; never an
    /// event, a rejected/ record or a count.
    @Test func healthAnswersForTheSpoolAndRecordsNothing() throws {
        let scratch = Scratch()
        let spool = scratch.spool
        let ok = try Self.hit("/pixel/v1/health", spool: spool)
        #expect(ok.stdoutText == "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\(Self.noCache)Content-Length: 2\r\n\r\nOK", "\(ok.stderr)")
        let withQuery = try Self.hit("/site/pixel/v1/health?writeKey=wk&anonymousId=a", spool: spool)
        #expect(withQuery.stdoutText.hasPrefix("Status: 200 OK\r\n"))
        let head = try Self.hit("/pixel/v1/health", spool: spool, method: "HEAD")
        #expect(head.stdoutText.hasPrefix("Status: 200 OK\r\n") && head.stdoutText.hasSuffix("\r\n\r\n"), "\(head.stdoutText)")
        let post = try Self.hit("/pixel/v1/health", spool: spool, method: "POST")
        #expect(post.stdoutText.hasPrefix("Status: 405 Method Not Allowed\r\n"))
        #expect(ok.stderr.isEmpty && withQuery.stderr.isEmpty && head.stderr.isEmpty)

        let stats = try Self.statsJSON(["PIXELGATE_SPOOL_DIR": spool])
        #expect((stats["backlog"] as? [String: Any])?["events"] as? Int == 0)
        #expect((stats["rejected"] as? [String: Any])?["records"] as? Int == 0)
        #expect(((stats["refused"] as? [String: Int]) ?? ["x": 1]).values.allSatisfy { $0 == 0 })
        #expect(scratch.spoolLines.isEmpty && scratch.rejectedLines.isEmpty)

        // A spool that cannot be made (its parent is a file): 503, the
        // reason in the log only.
        FileManager.default.createFile(atPath: scratch.path + "/file", contents: Data("x".utf8))
        let down = try Self.hit("/pixel/v1/health", spool: scratch.path + "/file/spool")
        #expect(down.stdoutText.hasPrefix("Status: 503 Service Unavailable\r\n"), "\(down.stdoutText)")
        #expect(down.stdoutText.hasSuffix("\r\n\r\nevents cannot be stored") && !down.stdoutText.contains("/file/spool"))
        #expect(down.stderr.contains("health: events cannot be stored") && down.stderr.contains("/file/spool"), "\(down.stderr)")
        // A setting that is wrong: 503 as well.
        let misconfigured = try Self.hit("/pixel/v1/health", spool: spool, extra: ["PIXELGATE_SINK": "nowhere"])
        #expect(misconfigured.stdoutText.hasPrefix("Status: 503 Service Unavailable\r\n") && misconfigured.stdoutText.hasSuffix("server misconfigured"))
    }

    /// The shipped nginx server block routes the health path to `serve`.
    @Test func healthThroughNginxAndServe() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1, threads: 8, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        let answer = try httpRequest("http://127.0.0.1:\(port)/pixel/v1/health")
        #expect(answer.status == 200 && answer.text == "OK", "\(answer.status) \(answer.text)")
        #expect(answer.headers["cache-control"] == "no-store, no-cache, must-revalidate, max-age=0")
        // Probes at once, on every thread of the worker: each its own probe
        // file, so none answers a false 503 (a load balancer would pull the host).
        let statuses = PThreadLockedArray()
        onThreads(8) { _ in
            for _ in 0..<8 { statuses.append((try? httpRequest("http://127.0.0.1:\(port)/pixel/v1/health").status) ?? -1) }
        }
        #expect(statuses.values.count == 64 && statuses.values.allSatisfy { $0 == 200 }, "\(statuses.values.filter { $0 != 200 })")
        #expect(nginx.stop())
        #expect(serve.stop().status == 0)
        #expect(scratch.spoolLines.isEmpty)
    }

    // MARK: - stats

    /// Every refused hit is counted by reason, deliveries and failures are
    /// stamped, and the three formats say the same.
    @Test func statsCountsRefusedDeliveredAndFailed() throws {
        let scratch = Scratch()
        let spool = scratch.spool
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", keys: ["wk"])
        try receiver.start()
        defer { receiver.stop() }
        let env = ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_DATA_PLANE_URL": receiver.url, "PIXELGATE_WRITE_KEYS": "wk"]

        // Tried: 3 good hits, 2 without anonymousId, 1 with a key not
        // listed, 1 HEAD without anonymousId (answered, never counted).
        for i in 0..<3 { #expect(try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=v\(i)", spool: spool, extra: env).stdoutText.hasPrefix("Status: 200")) }
        for _ in 0..<2 { #expect(try Self.hit("/pixel/v1/page?writeKey=wk", spool: spool, extra: env).stdoutText.hasPrefix("Status: 400")) }
        #expect(try Self.hit("/pixel/v1/track?writeKey=other&anonymousId=a&event=E", spool: spool, extra: env).stdoutText.hasPrefix("Status: 400"))
        #expect(try Self.hit("/pixel/v1/page?writeKey=wk", spool: spool, method: "HEAD", extra: env).stdoutText.hasPrefix("Status: 400"))

        var stats = try Self.statsJSON(env)
        #expect((stats["backlog"] as? [String: Any])?["events"] as? Int == 3)
        let refused = try #require(stats["refused"] as? [String: Int])
        #expect(refused["missing_anonymous_id"] == 2 && refused["invalid_write_key"] == 1)
        #expect(refused.values.reduce(0, +) == 3, "\(refused)")
        var delivery = try #require(stats["delivery"] as? [String: Any])
        #expect(delivery["events"] as? Int == 0 && delivery["lastDelivery"] is NSNull && delivery["lastFailure"] is NSNull)

        let before = Date()
        let drain = try runPixelgate(["drain", "--once"], environment: env)
        #expect(drain.status == 0, "\(drain.stderr)")
        #expect(try receiver.received().count == 3)
        stats = try Self.statsJSON(env)
        delivery = try #require(stats["delivery"] as? [String: Any])
        #expect(delivery["events"] as? Int == 3 && (delivery["batches"] as? Int ?? 0) >= 1 && (delivery["bytes"] as? Int ?? 0) > 0)
        let last = try #require(delivery["lastDelivery"] as? String)
        let stamped = try #require(ISO8601DateFormatter.withMillis.date(from: last), "\(last)")
        #expect(stamped >= before.addingTimeInterval(-1) && stamped <= Date().addingTimeInterval(1))
        #expect(delivery["lastFailure"] is NSNull)
        #expect((stats["backlog"] as? [String: Any])?["events"] as? Int == 0)

        // The data plane goes away: the drain's failure is stamped, kind and all.
        receiver.stop()
        #expect(try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=late", spool: spool, extra: env).stdoutText.hasPrefix("Status: 200"))
        let failed = try runPixelgate(["drain", "--once", "--max-seconds", "0"], environment: env)
        #expect(failed.status == 75, "\(failed.stderr)")
        stats = try Self.statsJSON(env)
        delivery = try #require(stats["delivery"] as? [String: Any])
        let failure = try #require(delivery["lastFailure"] as? [String: Any])
        #expect(failure["kind"] as? String == "unavailable" && failure["httpStatus"] is NSNull)
        #expect(delivery["events"] as? Int == 3)
        #expect((stats["backlog"] as? [String: Any])?["events"] as? Int == 1)

        let text = try runPixelgate(["stats"], environment: env)
        #expect(text.status == 0)
        #expect(text.stdoutText.contains("delivered: 3 events in "), "\(text.stdoutText)")
        #expect(text.stdoutText.contains("refused hits: invalid_write_key 1, missing_anonymous_id 2\n"), "\(text.stdoutText)")
        #expect(text.stdoutText.contains("last failure: ") && text.stdoutText.contains(", unavailable\n"))

        // Prometheus: parsed by the Prometheus project's own Python parser.
        let prom = try runPixelgate(["stats", "--format", "prometheus"], environment: env)
        #expect(prom.status == 0, "\(prom.stderr)")
        let samples = try Self.parsePrometheus(prom.stdoutText)
        let label = "spool=\(spool)"
        #expect(samples["pixelgate_delivered_events_total{\(label)}"] == 3)
        #expect(samples["pixelgate_backlog_events{\(label)}"] == 1)
        #expect(samples["pixelgate_refused_hits_total{reason=missing_anonymous_id,\(label)}"] == 2)
        #expect(samples["pixelgate_refused_hits_total{reason=invalid_write_key,\(label)}"] == 1)
        #expect(samples["pixelgate_dropped_hits_total{reason=bot,\(label)}"] == 0)
        let lastDelivery = try #require(samples["pixelgate_last_delivery_timestamp_seconds{\(label)}"])
        #expect(abs(lastDelivery - stamped.timeIntervalSince1970) < 0.002)
        #expect((samples["pixelgate_last_failure_timestamp_seconds{\(label)}"] ?? 0) >= lastDelivery)
        // The families added beside those: the build, a class under its own
        // label, and the oldest waiting event's time as a timestamp.
        let version = try runPixelgate(["--version"], environment: [:]).stdoutText.dropFirst("pixelgate ".count).trimmingCharacters(in: .newlines)
        #expect(samples["pixelgate_build_info{\(label),version=\(version)}"] == 1, "\(samples.keys.filter { $0.contains("build") })")
        #expect(samples["pixelgate_class_dropped_hits_total{class=bot,\(label)}"] == 0)
        #expect(samples["pixelgate_consent_dropped_hits_total{\(label)}"] == 0)
        let oldest = try #require(samples["pixelgate_backlog_oldest_timestamp_seconds{\(label)}"])
        #expect(abs(oldest - Date().timeIntervalSince1970) < 120, "\(oldest)")

        // --output replaces the file whole, for the textfile collector.
        let target = scratch.path + "/pixelgate.prom"
        try "stale".write(toFile: target, atomically: true, encoding: .utf8)
        let written = try runPixelgate(["stats", "--format", "prometheus", "--output", target], environment: env)
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == prom.stdoutText)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
        let unwritable = try runPixelgate(["stats", "--output", scratch.path + "/no/such/dir/x.prom"], environment: env)
        #expect(unwritable.status == 1 && unwritable.stderr.contains("cannot write"))
    }

    /// Stored events by route, counted from what the spool records (the
    /// lines waiting, the drain's delivery counts, the data plane's refusals
    /// kept): tried 3 page hits, 2 track hits and 2 signed clicks, one track
    /// event and one click refused by the data plane; the counts stay the
    /// same before and after the drain, and after those two are requeued
    /// and delivered, in text, JSON and Prometheus.
    @Test func storedEventsAreCountedByRoute() throws {
        let scratch = Scratch()
        let spool = scratch.spool
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", keys: ["wk", "mail"], refuseIds: ["refused-visitor", "refused-clicker"])
        try receiver.start()
        defer { receiver.stop() }
        // Click links must be signed: the mailing's key has a secret.
        let env = ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_DATA_PLANE_URL": receiver.url, "PIXELGATE_WRITE_KEYS": "wk,mail",
                   "PIXELGATE_SIGNING_KEYS": "mail:0123456789abcdef-secret"]
        for i in 0..<3 { #expect(try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=v\(i)", spool: spool, extra: env).stdoutText.hasPrefix("Status: 200")) }
        #expect(try Self.hit("/pixel/v1/track?writeKey=wk&anonymousId=v0&event=E", spool: spool, extra: env).stdoutText.hasPrefix("Status: 200"))
        #expect(try Self.hit("/pixel/v1/track?writeKey=wk&anonymousId=refused-visitor&event=E", spool: spool, extra: env).stdoutText.hasPrefix("Status: 200"))
        for clicker in ["v1", "refused-clicker"] {
            let signed = try runPixelgate(["sign", "--target", "https://shop.example/", "https://h.example/pixel/v1/click?writeKey=mail&anonymousId=" + clicker],
                                          environment: env)
            #expect(signed.status == 0, "\(signed.stderr)")
            let click = try Self.hit(String(signed.stdoutText.trimmingCharacters(in: .newlines).dropFirst("https://h.example".count)), spool: spool, extra: env)
            #expect(click.stdoutText.hasPrefix("Status: 302"), "\(click.stdoutText)")
        }
        // A HEAD and a refused hit are no stored events.
        #expect(try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=v9", spool: spool, method: "HEAD", extra: env).stdoutText.hasPrefix("Status: 200"))
        #expect(try Self.hit("/pixel/v1/track?writeKey=wk&anonymousId=v9", spool: spool, extra: env).stdoutText.hasPrefix("Status: 400"))

        let expected: [String: Int] = ["events": 7, "page": 3, "track": 2, "click": 2, "other": 0]
        var stats = try Self.statsJSON(env)
        #expect(stats["stored"] as? [String: Int] == expected, "before the drain: \(String(describing: stats["stored"]))")
        let drain = try runPixelgate(["drain", "--once"], environment: env)
        #expect(drain.status == 0, "\(drain.stderr)")
        #expect(try receiver.received().count == 5)
        stats = try Self.statsJSON(env)
        #expect(stats["stored"] as? [String: Int] == expected, "after the drain: \(String(describing: stats["stored"]))")
        #expect((stats["backlog"] as? [String: Any])?["events"] as? Int == 0)
        #expect((stats["delivery"] as? [String: Any])?["refusedEvents"] as? Int == 2)

        // The cause fixed, the two refused are requeued and delivered: a
        // click is still a click.
        try receiver.start(refuseIds: [])
        #expect(try runPixelgate(["requeue"], environment: env).status == 0)
        #expect(try runPixelgate(["drain", "--once"], environment: env).status == 0)
        #expect(try receiver.received().count == 7)
        stats = try Self.statsJSON(env)
        #expect(stats["stored"] as? [String: Int] == expected, "after the requeue: \(String(describing: stats["stored"]))")

        let text = try runPixelgate(["stats"], environment: env)
        #expect(text.stdoutText.contains("\nhits: stored\nstored: 7 events (page 3, track 2, click 2, other 0)\n"), "\(text.stdoutText)")
        let samples = try Self.parsePrometheus(try runPixelgate(["stats", "--format", "prometheus"], environment: env).stdoutText)
        for (route, count) in ["page": 3, "track": 2, "click": 2, "other": 0] {
            #expect(samples["pixelgate_stored_events{route=\(route),spool=\(spool)}"] == Double(count), "\(route)")
        }
        #expect(samples["pixelgate_hits_stored{spool=\(spool)}"] == 1)
    }

    /// A spool that answers every hit 503, or settings that answer 500, is
    /// not a calm spool: `stats` says hits are not stored, and exits 1 with
    /// its figures written (it said "exit 0", with the figures alone).
    @Test func statsSaysWhenHitsAreNotStored() throws {
        let scratch = Scratch()
        try withTmpfs(scratch, size: "1m") { mount in
            let spool = mount + "/spool"
            let env = ["PIXELGATE_SPOOL_DIR": spool]
            #expect(try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=v", spool: spool, extra: env).stdoutText.hasPrefix("Status: 200"))
            var ok = try runPixelgate(["stats"], environment: env)
            #expect(ok.status == 0 && ok.stdoutText.contains("\nhits: stored\n"), "\(ok.stdoutText) \(ok.stderr)")
            // The disk fills: no room for the largest event, so the health
            // route answers 503, and stats says the same.
            let filler = try runProcess("/bin/dd", ["if=/dev/zero", "of=" + mount + "/filler", "bs=4k"], mergeStderr: true)
            #expect(filler.status != 0, "the tmpfs did not fill")
            #expect(try Self.hit("/pixel/v1/health", spool: spool, extra: env).stdoutText.hasPrefix("Status: 503"))
            let full = try runPixelgate(["stats"], environment: env)
            #expect(full.status == 1, "\(full.stdoutText)")
            #expect(full.stdoutText.contains("\nhits: NOT stored now, answered 503: "), "\(full.stdoutText)")
            let json = try jsonObject(try runPixelgate(["stats", "--json"], environment: env).stdoutText)
            let hits = try #require(json["hits"] as? [String: Any])
            #expect(hits["stored"] as? Bool == false && hits["status"] as? Int == 503 && (hits["reason"] as? String ?? "").contains("free"))
            let samples = try Self.parsePrometheus(try runPixelgate(["stats", "--format", "prometheus"], environment: env).stdoutText)
            #expect(samples["pixelgate_hits_stored{spool=\(spool)}"] == 0)
            // Room again: calm again.
            unlink(mount + "/filler")
            ok = try runPixelgate(["stats"], environment: env)
            #expect(ok.status == 0 && ok.stdoutText.contains("\nhits: stored\n"), "\(ok.stdoutText)")
            // A setting every hit is answered 500 for.
            let broken = try runPixelgate(["stats"], environment: env.merging(["PIXELGATE_MAX_PAIRS": "lots"]) { $1 })
            #expect(broken.status == 1 && broken.stdoutText.contains("\nhits: NOT stored now, answered 500: PIXELGATE_MAX_PAIRS"),
                    "\(broken.stdoutText)")
        }
    }

    /// The data plane refusing an event is a failure of its own kind, with
    /// the status, and the refused event is counted.
    @Test func aRefusedEventIsCountedWithItsStatus() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", keys: ["wk"], refuseIds: ["bad"])
        try receiver.start()
        defer { receiver.stop() }
        let env = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": receiver.url]
        for id in ["good", "bad"] { _ = try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=\(id)", spool: scratch.spool, extra: env) }
        #expect(try runPixelgate(["drain", "--once"], environment: env).status == 0)
        let delivery = try #require(try Self.statsJSON(env)["delivery"] as? [String: Any])
        #expect(delivery["events"] as? Int == 1 && delivery["refusedEvents"] as? Int == 1, "\(delivery)")
        let failure = try #require(delivery["lastFailure"] as? [String: Any])
        #expect(failure["kind"] as? String == "refused" && failure["httpStatus"] as? Int == 400)
    }

    /// A counter file a group member wrote nonsense into (a time past the
    /// year 9999) reads as no time, not as a crash of `stats`.
    @Test func forgedCounterTimesDoNotCrashStats() throws {
        let scratch = Scratch()
        _ = try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=a", spool: scratch.spool)
        var slots = [UInt64](repeating: 0, count: 11)
        slots[4] = 1 << 63  // last delivery
        slots[5] = UInt64.max  // last failure
        let bytes = slots.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        FileManager.default.createFile(atPath: scratch.spool + "/.delivery", contents: Data(bytes))
        for format in ["text", "json", "prometheus"] {
            let stats = try runPixelgate(["stats", "--format", format], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
            #expect(stats.status == 0, "\(format): \(stats.status) \(stats.stderr)")
        }
        let text = try runPixelgate(["stats"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool]).stdoutText
        #expect(text.contains("last delivery: never\n") && text.contains("last failure: none\n"), "\(text)")
    }

    /// A mistyped spool path is an error, not an idle spool.
    @Test func statsOnAMissingSpoolFails() throws {
        let scratch = Scratch()
        for format in ["text", "json", "prometheus"] {
            let missing = try runPixelgate(["stats", "--format", format], environment: ["PIXELGATE_SPOOL_DIR": scratch.path + "/typo"])
            #expect(missing.status == 1 && missing.stdout.isEmpty, "\(format): \(missing.status)")
            #expect(missing.stderr.contains("no spool at \(scratch.path)/typo"), "\(missing.stderr)")
        }
        FileManager.default.createFile(atPath: scratch.path + "/afile", contents: Data())
        let file = try runPixelgate(["stats"], environment: ["PIXELGATE_SPOOL_DIR": scratch.path + "/afile"])
        #expect(file.status == 1 && file.stdout.isEmpty && file.stderr.contains("not a directory"))
        #expect(try runPixelgate(["stats", "--json", "--format", "text"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool]).status == 2)
    }

    /// `{"a":1}`-free form of each sample: `name{label=value,…}` → value,
    /// labels sorted, as Python's prometheus_client reads the text.
    static func parsePrometheus(_ text: String) throws -> [String: Double] {
        let script = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
                print("%s{%s} %r" % (s.name, labels, s.value))
        """
        let input = NSTemporaryDirectory() + "prom-\(UUID().uuidString.prefix(8)).txt"
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: input) }
        let parsed = try runProcess("/bin/sh", ["-c", "python3 -c '\(script)' < \(input)"], environment: ["PATH": "/usr/bin:/bin"])
        guard parsed.status == 0 else { throw TestFailure("not Prometheus text format: \(parsed.stderr)") }
        var samples: [String: Double] = [:]
        for line in parsed.stdoutText.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    // MARK: - The log

    @Test func logLevelAndRefusedLinesFollowTheSettings() throws {
        let scratch = Scratch()
        let spool = scratch.spool
        let refusedURI = "/pixel/v1/page?writeKey=wk"
        let quiet = try Self.hit(refusedURI, spool: spool, extra: ["PIXELGATE_LOG_REFUSED": "none"])
        #expect(quiet.stdoutText.hasPrefix("Status: 400") && quiet.stderr.isEmpty, "\(quiet.stderr)")
        let errorsOnly = try Self.hit(refusedURI, spool: spool, extra: ["PIXELGATE_LOG_LEVEL": "error"])
        #expect(errorsOnly.stderr.isEmpty)
        let loud = try Self.hit(refusedURI, spool: spool)
        #expect(loud.stderr.contains(" warn: refused page hit: 400 missing required parameter: anonymousId"))
        // Counted all the same.
        #expect((try Self.statsJSON(["PIXELGATE_SPOOL_DIR": spool])["refused"] as? [String: Int])?["missing_anonymous_id"] == 3)

        let debug = try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=a", spool: spool, extra: ["PIXELGATE_LOG_LEVEL": "debug"])
        #expect(debug.stderr.contains(" debug: stored page hit, ") && debug.stderr.contains("(ip=198.51.100.23)"), "\(debug.stderr)")
        let info = try Self.hit("/pixel/v1/page?writeKey=wk&anonymousId=a", spool: spool)
        #expect(info.stderr.isEmpty)

        // One in 4 at random: over 120 refused hits some lines and far from all.
        var lines = 0
        for _ in 0..<120 {
            let sampled = try Self.hit(refusedURI, spool: spool, extra: ["PIXELGATE_LOG_REFUSED": "4"])
            if !sampled.stderr.isEmpty {
                #expect(sampled.stderr.hasSuffix("(one refused-hit line in 4 is logged)\n"), "\(sampled.stderr)")
                lines += 1
            }
        }
        #expect(lines > 5 && lines < 80, "\(lines) of 120 lines logged")
        #expect((try Self.statsJSON(["PIXELGATE_SPOOL_DIR": spool])["refused"] as? [String: Int])?["missing_anonymous_id"] == 123)
    }

    /// Under systemd, stderr is the journal and `JOURNAL_STREAM` names it:
    /// each line then starts with its syslog priority.
    @Test func journalLinesCarryTheirPriority() throws {
        let scratch = Scratch()
        let log = scratch.path + "/journal"
        var env = cgiEnvironment("/pixel/v1/page?writeKey=wk", spool: scratch.spool)
        env["BINARY_UNDER_TEST"] = pixelgateBinary
        env["LOG_FILE"] = log
        // The stream is named by the device and inode of the file on stderr.
        let script = #"exec 2>"$LOG_FILE"; JOURNAL_STREAM=$(stat -c %d:%i "$LOG_FILE") exec "$BINARY_UNDER_TEST""#
        let run = try runProcess("/bin/sh", ["-c", script], environment: env.merging(["PATH": "/usr/bin:/bin"]) { $1 })
        #expect(run.stdoutText.hasPrefix("Status: 400"))
        let line = try String(contentsOfFile: log, encoding: .utf8)
        #expect(line.hasPrefix("<4>") && line.contains(" warn: refused page hit"), "\(line)")

        // A JOURNAL_STREAM that names another file: no prefixes.
        env["JOURNAL_STREAM"] = "1:1"
        let plain = try runPixelgate([], environment: env)
        #expect(plain.stderr.contains(" warn: refused page hit") && !plain.stderr.hasPrefix("<"))
    }

    // MARK: - The settings file

    /// A settings file decides where events go: one that others may write,
    /// or that another user owns, is refused; a FIFO does not hang anyone.
    @Test func settingsFilesOthersCouldChangeAreRefused() throws {
        let scratch = Scratch()
        let file = scratch.path + "/pixelgate.env"
        try "PIXELGATE_SPOOL_DIR=\(scratch.spool)\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        let good = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": file])
        #expect(good.status == 0 && good.stdoutText.contains("PIXELGATE_SPOOL_DIR=\(scratch.spool)    (\(file))"), "\(good.stdoutText)")

        chmod(file, 0o666)
        let open = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": file, "PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(open.status == 78 && open.stdoutText.contains("writable by every user"), "\(open.stdoutText)")
        let hit = try runPixelgate([], environment: cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=a", spool: scratch.spool,
                                                                   extra: ["PIXELGATE_CONFIG": file]))
        #expect(hit.stdoutText.hasPrefix("Status: 500"), "\(hit.stdoutText)")

        chmod(file, 0o644)
        chown(file, 65534, 65534)
        let foreign = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": file, "PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(foreign.status == 78 && foreign.stdoutText.contains("owned by nobody"), "\(foreign.stdoutText)")

        let fifo = scratch.path + "/fifo"
        #expect(mkfifo(fifo, 0o644) == 0)
        let started = Date()
        let pipe = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": fifo, "PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(pipe.status == 78 && pipe.stdoutText.contains("not a regular file"), "\(pipe.stdoutText)")
        #expect(Date().timeIntervalSince(started) < 30)

        // `none`: no file at all, not even the system's.
        let none = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": "none", "PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(none.status == 0 && !none.stdoutText.contains("config file:"), "\(none.stdoutText)")
    }

    // MARK: - check

    @Test func checkConnectAsksTheDataPlaneAboutEachKey() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", keys: ["wk", "wk2"], disabledKeys: ["off"])
        try receiver.start()
        defer { receiver.stop() }
        let env = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": receiver.url, "PIXELGATE_WRITE_KEYS": "wk,wk2"]

        let known = try runPixelgate(["check", "--connect"], environment: env)
        #expect(known.status == 0, "\(known.stdoutText)")
        #expect(known.stdoutText.contains("write key 'wk': known") && known.stdoutText.contains("write key 'wk2': known"))
        #expect(known.stdoutText.hasSuffix("connect: ok\n"))
        #expect(known.stdoutText.contains("libcurl: loaded"))

        let unknown = try runPixelgate(["check", "--connect", "--write-key", "nope"], environment: env)
        #expect(unknown.status == 78 && unknown.stdoutText.contains("write key 'nope': refused (HTTP 401"), "\(unknown.stdoutText)")
        let disabled = try runPixelgate(["check", "--connect", "--write-key", "off"], environment: env)
        #expect(disabled.status == 78 && disabled.stdoutText.contains("its source is disabled"), "\(disabled.stdoutText)")
        let noKeys = try runPixelgate(["check", "--connect"], environment: env.filter { $0.key != "PIXELGATE_WRITE_KEYS" })
        #expect(noKeys.status == 78 && noKeys.stdoutText.contains("no write key to try"))
        // No event reached the data plane, whatever was asked.
        #expect(try receiver.received().isEmpty)

        receiver.stop()
        let down = try runPixelgate(["check", "--connect"], environment: env)
        #expect(down.status == 75 && down.stdoutText.contains("data plane unavailable"), "\(down.stdoutText)")
        #expect(try runPixelgate(["check"], environment: env).status == 0)
    }

    /// What is not a RudderStack gateway, or one that cannot read what
    /// pixelgate sends, is named before the drain finds out.
    @Test func checkConnectTellsWhatIsNotADataPlane() throws {
        let scratch = Scratch()
        // A catch-all web server (200 and a page), and a gateway that reads
        // no gzip ("Invalid JSON" to a gzipped body, the key known plain).
        let script = scratch.path + "/fake.py"
        try #"""
        import sys
        from http.server import BaseHTTPRequestHandler, HTTPServer
        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.startswith("/site/"):
                    status, body = 200, "<html><body>Welcome</body></html>"
                elif self.headers.get("Content-Encoding") == "gzip":
                    status, body = 400, "Invalid JSON\n"
                else:
                    status, body = 400, "empty batch payload\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())
            def log_message(self, *a):
                pass
        server = HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
        print("ready", flush=True)
        server.serve_forever()
        """#.write(toFile: script, atomically: true, encoding: .utf8)
        let port = freePort()
        let fake = try ChildProcess("/usr/bin/python3", [script, String(port)], environment: ["PATH": "/usr/bin:/bin"], log: scratch.path + "/fake.log")
        defer { _ = fake.stop(grace: 2) }
        #expect(waitUntil { ((try? String(contentsOfFile: scratch.path + "/fake.log", encoding: .utf8)) ?? "").contains("ready") })
        let base = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_WRITE_KEYS": "wk"]

        let page = try runPixelgate(["check", "--connect"], environment: base.merging(["PIXELGATE_DATA_PLANE_URL": "http://127.0.0.1:\(port)/site/"]) { $1 })
        #expect(page.status == 78 && page.stdoutText.contains("not a data plane: HTTP 200"), "\(page.stdoutText)")
        let noGzip = try runPixelgate(["check", "--connect"], environment: base.merging(["PIXELGATE_DATA_PLANE_URL": "http://127.0.0.1:\(port)"]) { $1 })
        #expect(noGzip.status == 78 && noGzip.stdoutText.contains("does not read gzip bodies: set PIXELGATE_GZIP=off"), "\(noGzip.stdoutText)")
        let plain = try runPixelgate(["check", "--connect"], environment: base.merging(["PIXELGATE_DATA_PLANE_URL": "http://127.0.0.1:\(port)", "PIXELGATE_GZIP": "off"]) { $1 })
        #expect(plain.status == 0 && plain.stdoutText.contains("write key 'wk': known"), "\(plain.stdoutText)")
        // https:// to a plain-HTTP port: TLS fails, and no retry mends that.
        let tls = try runPixelgate(["check", "--connect"], environment: base.merging(["PIXELGATE_DATA_PLANE_URL": "https://127.0.0.1:\(port)"]) { $1 })
        #expect(tls.status == 78 && tls.stdoutText.contains("not reached:") && tls.stdoutText.contains("scheme, host and port"), "\(tls.stdoutText)")
    }

    @Test func checkWarnsAboutABatchPathInTheURL() throws {
        let scratch = Scratch()
        let check = try runPixelgate(["check"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool,
                                                             "PIXELGATE_DATA_PLANE_URL": "https://dp.example.com/v1/batch"])
        #expect(check.status == 0)
        #expect(check.stdoutText.contains("warning: PIXELGATE_DATA_PLANE_URL: ends in /v1/batch"), "\(check.stdoutText)")
    }

    /// A host without libcurl: `check` fails while a data plane is set
    /// (the drain and forwarding need it), and passes without one. libcurl
    /// is hidden in a mount namespace of its own.
    @Test func checkFailsWhenLibcurlCannotBeLoaded() throws {
        let scratch = Scratch()
        // Every libcurl the loader knows (pixelgate falls back from
        // OpenSSL's libcurl to GnuTLS's), each covered by /dev/null.
        let script = #"for lib in $(ldconfig -p | awk '/libcurl/ {print $NF}'); do mount --bind /dev/null "$(realpath "$lib")" || exit 9; done; exec "$BINARY_UNDER_TEST" check"#
        var env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "BINARY_UNDER_TEST": pixelgateBinary,
                   "PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": "http://127.0.0.1:9"]
        let missing = try runProcess("/usr/bin/unshare", ["--mount", "/bin/sh", "-c", script], environment: env)
        #expect(missing.status == 78, "\(missing.stdoutText) \(missing.stderr)")
        #expect(missing.stdoutText.contains("error: cannot load libcurl") && missing.stdoutText.contains("the drain needs it"), "\(missing.stdoutText)")
        // The summary says what it means: hits are still stored.
        #expect(missing.stdoutText.hasSuffix("not ok: hits are stored, but the drain cannot deliver them\n"), "\(missing.stdoutText)")
        env["PIXELGATE_SINK"] = "forward"
        let forwarding = try runProcess("/usr/bin/unshare", ["--mount", "/bin/sh", "-c", script], environment: env)
        #expect(forwarding.status == 78)
        #expect(forwarding.stdoutText.hasSuffix("not ok: hits to forward would be answered 503, and nothing delivered\n"), "\(forwarding.stdoutText)")
        env["PIXELGATE_SINK"] = nil
        env["PIXELGATE_DATA_PLANE_URL"] = nil
        let spoolOnly = try runProcess("/usr/bin/unshare", ["--mount", "/bin/sh", "-c", script], environment: env)
        #expect(spoolOnly.status == 0, "\(spoolOnly.stdoutText) \(spoolOnly.stderr)")
    }

    // MARK: - The command line

    @Test func everyCommandHasHelpAndExitCodes() throws {
        for command in ["serve", "drain", "requeue", "sign", "stats", "check"] {
            let help = try runPixelgate([command, "--help"], environment: [:])
            #expect(help.status == 0 && help.stderr.isEmpty, "\(command)")
            #expect(help.stdoutText.contains("Exit codes:") && help.stdoutText.contains("  2   usage"), "\(command) --help lists no exit codes")
            let viaHelp = try runPixelgate(["help", command], environment: [:])
            #expect(viaHelp.status == 0 && viaHelp.stdoutText == help.stdoutText)
        }
        let usage = try runPixelgate(["--help"], environment: [:])
        for code in ["  0 ", "  1 ", "  2 ", "  75 ", "  78 "] { #expect(usage.stdoutText.contains(code), "--help lacks exit code \(code)") }

        let usageErrors: [([String], String)] = [
            (["drain", "--once", "--follow"], "not both"), (["drain", "--once", "--interval", "5"], "--interval is for --follow"),
            (["check", "extra"], "check takes no arguments"), (["stats", "extra"], "stats takes only options"),
            (["check", "--write-key", "k"], "--write-key is for --connect"), (["stats", "--format", "xml"], "--format takes text, json or prometheus"),
            (["nosuch"], "'nosuch' is not a pixelgate command"),
        ]
        for (arguments, words) in usageErrors {
            let wrong = try runPixelgate(arguments, environment: [:])
            #expect(wrong.status == 2 && wrong.stderr.contains(words) && wrong.stdout.isEmpty, "\(arguments): \(wrong.status) \(wrong.stderr)")
        }
    }
}

extension ISO8601DateFormatter {
    /// `2026-12-02T10:11:12.345Z`, as pixelgate writes times.
    static var withMillis: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

/// Values appended from several threads.
final class PThreadLockedArray: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    func append(_ value: Int) { lock.lock(); items.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return items }
}
