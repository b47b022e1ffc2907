import Foundation
import Testing
import PixelCore
import PixelSystem
@testable import PixelSpool

/// The drain against `InMemoryDataPlane`: what reaches the data plane, what
/// is kept, and that nothing is lost or sent twice, with no HTTP in the way.
@Suite("Drain against an in-memory data plane")
struct DrainWithInMemoryDataPlaneTests {
    /// A spool record: write key `wk-A` for the first half, `wk-B` after.
    static func record(_ n: Int, of total: Int) -> [UInt8] {
        let key = n < total / 2 ? "wk-A" : "wk-B"
        return Array(#"{"writeKey":"\#(key)","event":{"type":"track","anonymousId":"a","event":"e","messageId":"m-\#(n)"}}"#.utf8) + [0x0A]
    }

    static func fill(_ writer: SpoolWriter, events: Int) throws {
        for n in 0..<events { try writer.append(record(n, of: events)) }
    }

    static func drain(_ writer: SpoolWriter, _ plane: InMemoryDataPlane, giveUpAfterMillis: Int64 = 300_000) -> DrainReport {
        var settings = DrainSettings()
        settings.maxBatchBytes = 1024
        settings.retryBaseMillis = 1
        settings.retryCapMillis = 2
        settings.giveUpAfterMillis = giveUpAfterMillis
        return SpoolDrain(writer: writer, client: plane, settings: settings, log: { _, _ in }).runOnce()
    }

    /// A pass that found the drain lock free. The spool's locks are flocks:
    /// a child process that another test is spawning in this same process
    /// holds copies of every descriptor until it execs, so a lock just
    /// released can still read as taken for a moment (seen under TSan and
    /// ASan). A busy pass changes nothing: it is run again.
    static func drainOnceNotBusy(_ writer: SpoolWriter, _ plane: InMemoryDataPlane) -> DrainReport {
        var report = drain(writer, plane)
        for _ in 0..<50 where report.busy {
            Thread.sleep(forTimeInterval: 0.02)
            report = drain(writer, plane)
        }
        return report
    }

    static func messageIds(_ batches: [InMemoryDataPlane.Batch]) -> [String] {
        batches.flatMap(\.events).compactMap { event in
            event.range(of: #""messageId":"m-"#).map { String(event[$0.upperBound...].prefix { $0 != "\"" }) }
        }
    }

    @Test func everyEventReachesTheDataPlaneOnceUnderItsOwnWriteKey() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try Self.fill(writer, events: 60)
        let plane = InMemoryDataPlane()
        let report = Self.drain(writer, plane)
        #expect(report.delivered == 60 && report.rejected == 0 && report.stop == nil)
        #expect(Self.messageIds(plane.delivered) == (0..<60).map(String.init))
        #expect(plane.delivered.count > 2, "batch sizes \(plane.delivered.map(\.events.count))")  // 1 KiB batches: several a key
        for batch in plane.delivered {
            let ids = Self.messageIds([batch]).compactMap(Int.init)
            #expect(ids.allSatisfy { ($0 < 30) == (batch.writeKey == "wk-A") })
        }
        #expect(spool.eventFiles.isEmpty)
    }

    @Test func oneRefusedEventIsFoundAndKeptAndTheRestDelivered() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try Self.fill(writer, events: 40)
        let plane = InMemoryDataPlane { batch in
            batch.events.contains { $0.contains(#""m-17""#) } ? .refused(status: 400, answer: "bad event") : .delivered
        }
        let report = Self.drain(writer, plane)
        #expect(report.delivered == 39 && report.rejected == 1)
        #expect(Self.messageIds(plane.delivered) == (0..<40).filter { $0 != 17 }.map(String.init))
        let kept = spool.read("rejected/upstream.ndjson")
        #expect(kept.contains(#""m-17""#) && kept.contains("bad event"))
        #expect(kept.split(separator: "\n").count == 1)
    }

    /// `--max-seconds` is how long the data plane may stay unavailable, not
    /// how long a pass may take: a pass longer than it that meets one 503
    /// late retries it and delivers everything. (It gave up at once, the
    /// deadline counted from the pass's start.)
    @Test func aLatePassingFailureIsRetriedInALongPass() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try Self.fill(writer, events: 60)
        var answers = 0
        let plane = InMemoryDataPlane { _ in
            answers += 1
            Thread.sleep(forTimeInterval: 0.08)  // each batch takes 80 ms: the 503 comes 400 ms in, past the 200
            return answers == 6 ? .retry(reason: "503", retryAfterSeconds: nil) : .delivered
        }
        let report = Self.drain(writer, plane, giveUpAfterMillis: 200)
        #expect(answers == 7, "\(answers) answers")  // six 1 KiB batches and the retry
        #expect(report.stop == nil && report.delivered == 60, "\(report)")
        #expect(Self.messageIds(plane.delivered).sorted() == (0..<60).map(String.init).sorted())
    }

    @Test func anUnavailableDataPlaneLosesNothingAndTheNextPassSendsAllOnce() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try Self.fill(writer, events: 30)
        let plane = InMemoryDataPlane { _ in .retry(reason: "503", retryAfterSeconds: nil) }
        let failed = Self.drain(writer, plane, giveUpAfterMillis: 0)
        #expect(failed.delivered == 0)
        guard case .unavailable? = failed.stop else {
            Issue.record("a 503 did not stop the drain as unavailable: \(String(describing: failed.stop))")
            return
        }
        #expect(!spool.eventFiles.isEmpty)
        plane.answer = { _ in .delivered }
        var report = Self.drainOnceNotBusy(writer, plane)
        for _ in 0..<50 where report.files == 0 && report.delivered == 0 {
            Thread.sleep(forTimeInterval: 0.02)
            report = Self.drainOnceNotBusy(writer, plane)
        }
        #expect(!report.busy && report.delivered == 30 && report.stop == nil)
        #expect(Self.messageIds(plane.delivered) == (0..<30).map(String.init))
        #expect(spool.eventFiles.isEmpty)
    }

    @Test func aMisdirectedDataPlaneKeepsEverythingForTheFix() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try Self.fill(writer, events: 10)
        let plane = InMemoryDataPlane { _ in .misdirected(status: 404, reason: "wrong URL") }
        let report = Self.drain(writer, plane)
        #expect(report.delivered == 0 && report.rejected == 0)
        guard case .misconfigured? = report.stop else {
            Issue.record("a 404 did not stop the drain as misconfigured: \(String(describing: report.stop))")
            return
        }
        #expect(spool.lines.count == 10)
    }

    @Test func theDoubleSplitsABatchBodyIntoItsEvents() {
        let body = DataPlaneClient.batchBody([Array(#"{"a":"x,y","b":[1,{"c":2}]}"#.utf8)[...], Array(#"{"d":"\"}"}"#.utf8)[...]])
        #expect(InMemoryDataPlane.events(in: body) == [#"{"a":"x,y","b":[1,{"c":2}]}"#, #"{"d":"\"}"}"#])
    }

    /// `stats`' delivery totals count a batch once its progress is saved: a
    /// pass that cannot save it (a full disk) sends the batch again next
    /// time, and the count must not grow with every try. Each failed attempt
    /// is counted, retried ones too, with the status the data plane gave.
    @Test func deliveriesAreCountedOnceAndFailedAttemptsEach() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try Self.fill(writer, events: 20)
        var attempts = 0
        let plane = InMemoryDataPlane { _ in
            attempts += 1
            return attempts <= 2 ? .retry(reason: "HTTP 503 busy", retryAfterSeconds: nil, status: 503) : .delivered
        }
        // The first pass seals the file.
        _ = Self.drain(writer, InMemoryDataPlane { _ in .retry(reason: "down", retryAfterSeconds: nil) }, giveUpAfterMillis: 0)
        let sealed = try #require(spool.eventFiles.first { $0.hasPrefix("sealed-") })
        let progress = spool.path + "/" + SpoolLayout.progressName(of: sealed)
        defer { Faults.clear(under: progress) }
        let layout = SpoolLayout(directory: spool.path)
        let before = try SpoolStatus.backlog(layout, nowMillis: 0)[.unavailableFailures]
        #expect(before >= 1)
        for _ in 0..<3 {
            // Each pass starts its progress file, then cannot record the
            // batch it delivered, nor on its second try as the pass stops
            // (a full disk): it stops, and resends it.
            Faults.inject("write", under: progress, errno: ENOSPC, times: 2, after: 1)
            let report = Self.drainOnceNotBusy(writer, plane)
            Faults.clear(under: progress)
            guard case .localFailure? = report.stop else {
                Issue.record("a progress that cannot be saved did not stop the pass: \(String(describing: report.stop))")
                return
            }
        }
        var backlog = try SpoolStatus.backlog(layout, nowMillis: 0)
        #expect(backlog[.events] == 0, "batches counted though their progress was never saved")
        #expect(backlog[.unavailableFailures] == before + 2, "the two 503s, each attempt")
        #expect(backlog[.lastFailureStatus] == 503)
        #expect(attempts == 5, "three passes each delivered the first batch again, after two 503s")
        let report = Self.drainOnceNotBusy(writer, plane)
        #expect(report.delivered == 20 && report.stop == nil)
        backlog = try SpoolStatus.backlog(layout, nowMillis: 0)
        #expect(backlog[.events] == 20 && backlog.events == 0)
        #expect(backlog[.lastDeliveryMillis] > 0)
    }
}
