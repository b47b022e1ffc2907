import Foundation
import Testing

/// What reaches RudderStack is right (SPEC §6): the hit's own time, no batch
/// sunk by one event, nothing thrown away. Every test counts: events in =
/// events delivered (distinct messageIds at the stand-in data plane) +
/// events kept in rejected/, exactly.
@Suite("Delivery integrity: time, refusals, wrong URLs, faults (SPEC §6)")
struct DeliveryIntegrityTests {
    /// `count` CGI hits, each answered 200; returns their anonymousIds.
    @discardableResult
    static func hits(_ count: Int, _ scratch: Scratch, writeKey: String = "wk", prefix: String = "v", extraQuery: String = "",
                     environment: [String: String] = [:]) throws -> [String] {
        try (0..<count).map { i in
            let id = "\(prefix)\(i)"
            let uri = "/pixel/v1/track?writeKey=\(writeKey)&anonymousId=\(id)&event=Open&properties.n=\(i)\(extraQuery)"
            let result = try runPixelgate(environment: cgiEnvironment(uri, spool: scratch.spool, extra: environment))
            guard result.stdoutText.hasSuffix("\r\n\r\nOK") else { throw TestFailure("hit \(i): \(result.stdoutText) \(result.stderr)") }
            return id
        }
    }

    static func drain(_ scratch: Scratch, _ url: String, environment: [String: String] = [:], maxSeconds: Int = 30) throws -> ProcessResult {
        var env = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": url]
        for (k, v) in environment { env[k] = v }
        return try runPixelgate(["drain", "--once", "--max-seconds", String(maxSeconds)], environment: env)
    }

    /// Events waiting in the spool, as `stats` counts them (it exits 1,
    /// figures written, while hits cannot be stored: a full disk).
    static func backlog(_ scratch: Scratch) throws -> Int {
        let stats = try runPixelgate(["stats", "--json"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        guard stats.status == 0 || (stats.status == 1 && !stats.stdout.isEmpty) else { throw TestFailure("stats: \(stats.status) \(stats.stderr)") }
        return (try jsonObject(stats.stdoutText)["backlog"] as? [String: Any])?["events"] as? Int ?? -1
    }

    /// The anonymousIds of the events kept in rejected/upstream.ndjson.
    static func refusedKept(_ scratch: Scratch) throws -> [String] {
        let text = (try? String(contentsOfFile: scratch.spool + "/rejected/upstream.ndjson", encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let record = try jsonObject(String(line))
            return (record["event"] as? [String: Any])?["anonymousId"] as? String ?? "?"
        }
    }

    static func delivered(_ receiver: DataPlaneReceiver) throws -> (ids: [String], distinctMessageIds: Int) {
        let got = try receiver.received()
        return (got.map { $0.event["anonymousId"] as? String ?? "" }, Set(got.map { $0.event["messageId"] as? String ?? "" }).count)
    }

    // MARK: Time

    /// RudderStack's processor dates an event without `timestamp` by when
    /// the data plane got it. Drained after a wait, or after an hour's
    /// outage (the stand-in's clock set an hour on), the event must still
    /// be dated at the hit.
    @Test(arguments: [(2.5, 0.0), (0.0, 3600.0)])
    func drainedEventsAreDatedAtTheHit(_ wait: (seconds: Double, clockOffset: Double)) throws {
        let scratch = Scratch()
        try DeliveryIntegrityTests.hits(4, scratch)
        // A client clock that says the event happened 7 s before it was sent.
        try DeliveryIntegrityTests.hits(1, scratch, prefix: "skewed",
                                        extraQuery: "&originalTimestamp=2020-01-01T00:00:00.000Z&sentAt=2020-01-01T00:00:07.000Z")
        usleep(UInt32(wait.seconds * 1_000_000))
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", clockOffsetSeconds: wait.clockOffset)
        try receiver.start()
        let result = try DeliveryIntegrityTests.drain(scratch, receiver.url)
        #expect(result.status == 0, "\(result.stderr)")
        let got = try receiver.receivedWithTime()
        #expect(got.count == 5)
        for event in got {
            let hitTime = try #require(event.event["receivedAt"] as? String)  // pixelgate's clock at the hit
            let id = event.event["anonymousId"] as? String ?? ""
            if id == "skewed0" {
                let hit = try #require(isoMillis(hitTime)), dated = try #require(isoMillis(event.timestamp))
                #expect(hit - dated == 7000, "\(id): hit \(hitTime), dated \(event.timestamp)")
            } else {
                #expect(event.timestamp == hitTime, "\(id): hit \(hitTime), dated \(event.timestamp)")
            }
        }
        // The drain names itself.
        #expect(receiver.requests().allSatisfy { ($0["userAgent"] as? String)?.hasPrefix("pixelgate/") == true })
    }

    // MARK: Refusals

    /// The data plane refuses a whole request for one bad event: the drain
    /// halves the batch until only the refused events are left, keeps
    /// those, delivers the rest once, and `requeue` sends them after the
    /// cause is fixed.
    @Test func oneRefusedEventIsSplitOutAndRequeuedLater() throws {
        let scratch = Scratch()
        let ids = try DeliveryIntegrityTests.hits(40, scratch)
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", refuseIds: ["v13", "v27"])
        try receiver.start()
        let first = try DeliveryIntegrityTests.drain(scratch, receiver.url)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("splitting"))
        let (delivered, distinct) = try DeliveryIntegrityTests.delivered(receiver)
        let kept = try DeliveryIntegrityTests.refusedKept(scratch)
        #expect(kept.sorted() == ["v13", "v27"])
        #expect(Set(delivered) == Set(ids).subtracting(kept))
        #expect(delivered.count == 38 && distinct == 38)
        #expect(distinct + kept.count == ids.count, "in \(ids.count) = delivered \(distinct) + kept \(kept.count)")
        #expect(try DeliveryIntegrityTests.backlog(scratch) == 0)

        // The cause is fixed: the refused events go back, each once.
        try receiver.start(refuseIds: [])
        let requeue = try runPixelgate(["requeue"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(requeue.status == 0, "\(requeue.stderr)")
        #expect(requeue.stdoutText.contains("2 event(s) moved back"))
        #expect(try DeliveryIntegrityTests.backlog(scratch) == 2)
        #expect(try DeliveryIntegrityTests.drain(scratch, receiver.url).status == 0)
        let after = try DeliveryIntegrityTests.delivered(receiver)
        #expect(after.ids.count == 40 && after.distinctMessageIds == 40 && Set(after.ids) == Set(ids))
        #expect(try DeliveryIntegrityTests.refusedKept(scratch).isEmpty)
        #expect(try runPixelgate(["requeue"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool]).stdoutText.contains("no events"))
    }

    /// The cap on rejected/ is for refused hits, which anyone can send;
    /// events the data plane refused are kept whatever it says.
    @Test func refusedEventsAreKeptWithRejectedCappedAtZero() throws {
        let scratch = Scratch()
        let ids = try DeliveryIntegrityTests.hits(10, scratch)
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", refuseIds: ["v3"])
        try receiver.start()
        let result = try DeliveryIntegrityTests.drain(scratch, receiver.url, environment: ["PIXELGATE_REJECTED_MAX_BYTES": "0"])
        #expect(result.status == 0, "\(result.stderr)")
        let (delivered, distinct) = try DeliveryIntegrityTests.delivered(receiver)
        let kept = try DeliveryIntegrityTests.refusedKept(scratch)
        #expect(kept == ["v3"])
        #expect(distinct + kept.count == ids.count && delivered.count == 9, "in \(ids.count) = delivered \(distinct) + kept \(kept.count)")
    }

    // MARK: Wrong URL or credentials

    enum Misdirection: String, CaseIterable, Sendable {
        case redirect, notFound, sourceDisabled, listedKeyUnknown
    }

    /// A redirect, a 404 or a 401 for a key the operator listed keeps every
    /// event in the spool, stops the pass with exit 78 and says what to fix;
    /// once fixed, the next pass delivers everything once.
    @Test(arguments: Misdirection.allCases)
    func aWrongURLOrKeyStopsThePassAndKeepsEverything(_ case_: Misdirection) throws {
        let scratch = Scratch()
        let writeKey = case_ == .listedKeyUnknown ? "newkey" : "wk"
        let ids = try DeliveryIntegrityTests.hits(12, scratch, writeKey: writeKey)
        let port = freePort()
        var receiver = DataPlaneReceiver(dir: scratch.path + "/dp", port: port)
        switch case_ {
        case .redirect: try receiver.start(redirect: "https://dp.example.invalid/v1/batch")
        case .notFound: try receiver.start(notFound: true)
        case .sourceDisabled:
            try receiver.start()
            try receiver.inject(["404src"])
        case .listedKeyUnknown: try receiver.start()
        }
        let env = ["PIXELGATE_WRITE_KEYS": "wk,newkey"]
        let stopped = try DeliveryIntegrityTests.drain(scratch, receiver.url, environment: env)
        #expect(stopped.status == 78, "\(stopped.stderr)")
        #expect(stopped.stderr.contains(case_ == .listedKeyUnknown ? "PIXELGATE_WRITE_KEYS" : "PIXELGATE_DATA_PLANE_URL"), "\(stopped.stderr)")
        #expect(try DeliveryIntegrityTests.backlog(scratch) == 12)
        #expect(try DeliveryIntegrityTests.refusedKept(scratch).isEmpty)
        #expect(try receiver.received().isEmpty)

        // Fixed: the endpoint is right again, or the key is known.
        receiver.stop()
        receiver = DataPlaneReceiver(dir: scratch.path + "/dp", keys: ["wk", "newkey"], port: port)
        try receiver.start()
        let fixed = try DeliveryIntegrityTests.drain(scratch, receiver.url, environment: env)
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let (delivered, distinct) = try DeliveryIntegrityTests.delivered(receiver)
        #expect(Set(delivered) == Set(ids) && distinct == 12 && delivered.count == 12)
    }

    /// A key nobody listed, refused with 401, is the internet's: rejected.
    @Test func anUnlistedKeyRefusedWith401IsRejected() throws {
        let scratch = Scratch()
        try DeliveryIntegrityTests.hits(3, scratch, writeKey: "wk")
        let bad = try DeliveryIntegrityTests.hits(2, scratch, writeKey: "revoked", prefix: "r")
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", keys: ["wk"])
        try receiver.start()
        let result = try DeliveryIntegrityTests.drain(scratch, receiver.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try receiver.received().count == 3)
        #expect(try DeliveryIntegrityTests.refusedKept(scratch) == bad)
        let record = try jsonObject(String(try String(contentsOfFile: scratch.spool + "/rejected/upstream.ndjson", encoding: .utf8)
            .split(separator: "\n")[0]))
        let note = try #require(record["rejected"] as? [String: Any])
        #expect(note["status"] as? String == "401")
        #expect(note["answer"] as? String == "invalid write key")
        #expect(record["writeKey"] as? String == "revoked")
    }

    /// Forwarding keeps the same rules for its immediate POST.
    @Test func forwardingKeepsRefusedEventsAndSpoolsOnAWrongURL() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", refuseIds: ["bad"])
        try receiver.start()
        func forward(_ id: String) throws -> ProcessResult {
            try runPixelgate(environment: cgiEnvironment("/pixel/v1/track?writeKey=wk&anonymousId=\(id)&event=Open", spool: scratch.spool,
                                                         extra: ["PIXELGATE_SINK": "forward", "PIXELGATE_DATA_PLANE_URL": receiver.url]))
        }
        #expect(try forward("good").stdoutText.hasSuffix("\r\n\r\nOK"))
        let refused = try forward("bad")
        #expect(refused.stdoutText.hasSuffix("\r\n\r\nOK"))
        #expect(try DeliveryIntegrityTests.refusedKept(scratch) == ["bad"])
        try receiver.start(redirect: "https://elsewhere.invalid/v1/batch")
        let moved = try forward("moved")
        #expect(moved.stdoutText.hasSuffix("\r\n\r\nOK"))
        #expect(moved.stderr.contains("PIXELGATE_DATA_PLANE_URL") && moved.stderr.contains("spooled"), "\(moved.stderr)")
        #expect(scratch.spoolLines.count == 1 && scratch.spoolLines[0].contains(#""anonymousId":"moved""#))
        #expect(try receiver.received().map { $0.event["anonymousId"] as? String } == ["good"])
        #expect(receiver.requests().allSatisfy { ($0["userAgent"] as? String)?.hasPrefix("pixelgate/") == true })
    }

    // MARK: Faults

    /// The disk fills while the drain runs: the pass stops where it cannot
    /// write (progress, a refused event's record), the file stays, and once
    /// there is room again everything is delivered or kept.
    @Test func aDiskThatFillsDuringThePassLosesNothing() throws {
        let scratch = Scratch()
        try withTmpfs(scratch, size: "256k") { mountPoint in
            let spoolScratch = Scratch(path: mountPoint)
            let ids = try DeliveryIntegrityTests.hits(20, spoolScratch)
            // Fill what is left.
            _ = try runProcess("/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=4096"])
            let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", refuseIds: ["v7"])
            try receiver.start()
            let full = try DeliveryIntegrityTests.drain(spoolScratch, receiver.url)
            #expect(full.status == 1, "\(full.stderr)")
            #expect(full.stderr.contains("No space left on device"), "\(full.stderr)")
            #expect(try DeliveryIntegrityTests.backlog(spoolScratch) > 0)

            try FileManager.default.removeItem(atPath: mountPoint + "/filler")
            let roomy = try DeliveryIntegrityTests.drain(spoolScratch, receiver.url)
            #expect(roomy.status == 0, "\(roomy.stderr)")
            let (delivered, distinct) = try DeliveryIntegrityTests.delivered(receiver)
            let kept = try DeliveryIntegrityTests.refusedKept(spoolScratch)
            #expect(kept == ["v7"])
            #expect(Set(delivered) == Set(ids).subtracting(kept))
            #expect(distinct + kept.count == ids.count, "in \(ids.count) = delivered \(distinct) + kept \(kept.count)")
            // Copies only of what was in flight when the disk filled.
            #expect(delivered.count - distinct <= ids.count / 2)
            #expect(try DeliveryIntegrityTests.backlog(spoolScratch) == 0)
        }
    }

    /// A progress file that is negative, past the end, mid-line or not a
    /// number: logged, no crash, and no event skipped unsent.
    @Test(arguments: ["-40", "999999", "17", "garbage", ""])
    func aDamagedProgressFileSkipsNothing(_ saved: String) throws {
        let scratch = Scratch()
        let ids = try DeliveryIntegrityTests.hits(6, scratch)
        let sealed = "sealed-20260101T000000.000000000Z-1-00000000.ndjson"
        try FileManager.default.moveItem(atPath: scratch.spool + "/current.ndjson", toPath: scratch.spool + "/" + sealed)
        try Data((saved + "\n").utf8).write(to: URL(fileURLWithPath: scratch.spool + "/." + sealed + ".progress"))
        #expect(try DeliveryIntegrityTests.backlog(scratch) == 6)
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let result = try DeliveryIntegrityTests.drain(scratch, receiver.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("progress"), "\(result.stderr)")
        let (delivered, distinct) = try DeliveryIntegrityTests.delivered(receiver)
        #expect(Set(delivered) == Set(ids) && distinct == 6)
    }

    /// A seal that fails after the line is written (here: the web server's
    /// user may write the spool's files but not rename in its directory)
    /// must not answer 503 for an event that is stored.
    @Test func aFailedSealAfterTheWriteStillAnswers200() throws {
        let scratch = Scratch()
        let binary = try binaryOtherUsersCanRun(scratch)
        try DeliveryIntegrityTests.hits(30, scratch)  // as root: the files exist
        chmod(scratch.spool, 0o755)
        for name in ["current.ndjson", ".lock"] { chmod(scratch.spool + "/" + name, 0o666) }
        let before = scratch.spoolLines.count
        var env = cgiEnvironment("/pixel/v1/track?writeKey=wk&anonymousId=late&event=Open", spool: scratch.spool)
        env["PIXELGATE_SEAL_BYTES"] = "4096"  // the file is past it: this append seals
        let result = try runProcess("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary], environment: env)
        #expect(result.stdoutText.hasSuffix("\r\n\r\nOK"), "\(result.stdoutText) \(result.stderr)")
        #expect(result.stderr.contains("event stored, but could not seal"), "\(result.stderr)")
        #expect(scratch.spoolLines.count == before + 1)
    }
}

/// Milliseconds since the epoch of `2026-11-27T13:26:12.345Z`.
func isoMillis(_ text: String) -> Int64? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
}
