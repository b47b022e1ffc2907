import Foundation
import Testing
import PixelCore
#if canImport(Glibc)
import Glibc
#endif
@testable import PixelSpool

/// The spool's `.dropped` counts (hits answered but stored nowhere by
/// choice): counted under the lock, read by `stats`, and never a way to
/// spoil an event file or stall a reader.
@Suite("Counts of dropped hits")
struct DropCountTests {
    @Test func countsAddUpByReason() throws {
        let spool = TempSpool()
        let writers = (0..<3).map { _ in SpoolWriter(directory: spool.path) }
        let reasons: [DroppedHit] = [.bot, .bot, .consent, .mailProxy, .bot, .prefetch, .human]
        for (i, reason) in reasons.enumerated() { try writers[i % 3].countDropped(reason) }
        let counts = SpoolStatus.dropCounts(SpoolLayout(directory: spool.path))
        #expect(counts == DroppedHit.allCases.map { reason in reasons.filter { $0 == reason }.count })
        let backlog = try SpoolStatus.backlog(SpoolLayout(directory: spool.path), nowMillis: 0)
        #expect(backlog.dropped == counts && backlog.events == 0)
        let st = try FileManager.default.attributesOfItem(atPath: spool.path + "/.dropped")
        #expect((st[.posixPermissions] as? Int).map { $0 & 0o007 } == 0, "private like every spool file")
    }

    /// A second name for an event file (a hard link planted as `.dropped`)
    /// is refused: counting writes in place and would overwrite the event.
    @Test func aHardLinkToAnEventFileIsRefusedAndTheEventKept() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(line(1))
        #expect(link(spool.path + "/current.ndjson", spool.path + "/.dropped") == 0)
        #expect(throws: SpoolError.self) { try writer.countDropped(.bot) }
        #expect(spool.lines == [#"{"n":1,"pad":""}"#])
    }

    /// A FIFO or a huge file in its place stalls nothing and fakes nothing:
    /// `stats` reads zeros from a FIFO and only the counts' bytes of a file.
    @Test func oddFilesAreReadSafely() throws {
        let spool = TempSpool()
        try FileManager.default.createDirectory(atPath: spool.path, withIntermediateDirectories: true)
        let layout = SpoolLayout(directory: spool.path)
        #expect(mkfifo(layout.dropCountsFile, 0o600) == 0)
        #expect(SpoolStatus.dropCounts(layout) == [0, 0, 0, 0, 0])
        try FileManager.default.removeItem(atPath: layout.dropCountsFile)
        try SpoolWriter(directory: spool.path).countDropped(.bot)
        #expect(truncate(layout.dropCountsFile, 1 << 40) == 0)
        #expect(SpoolStatus.dropCounts(layout) == [0, 0, 0, 1, 0])
    }

    /// Refused hits by reason, deliveries and their failures, and hits a
    /// failing spool could not keep: the other counter files, the same rules.
    @Test func refusedDeliveredAndUnstoredCountsAddUp() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        let layout = SpoolLayout(directory: spool.path)
        // The first event makes room for the full-disk count ahead of need.
        try writer.append(line(1))
        #expect((try FileManager.default.attributesOfItem(atPath: layout.unstoredCountsFile)[.size] as? Int) == 16)
        for code in ["missing_anonymous_id", "invalid_write_key", "missing_anonymous_id", "no_such_code"] { try writer.countRefused(code) }
        try writer.countUnstored(.unavailable)
        try writer.recordDelivery(events: 5, bytes: 900, nowMillis: 1_000)
        try writer.recordDelivery(events: 2, bytes: 300, nowMillis: 2_000)
        try writer.recordDeliveryFailure(.refused, status: 400, refusedEvents: 1, nowMillis: 3_000)
        try writer.recordDeliveryFailure(.unavailable, status: 0, nowMillis: 4_000)
        let backlog = try SpoolStatus.backlog(layout, nowMillis: 5_000)
        var refused = [Int](repeating: 0, count: PixelError.refusalCodes.count)
        refused[PixelError.refusalCodes.firstIndex(of: "missing_anonymous_id")!] = 2
        refused[PixelError.refusalCodes.firstIndex(of: "invalid_write_key")!] = 1
        #expect(backlog.refused == refused)
        #expect(backlog.unstored == [1, 0])
        #expect(backlog[.events] == 7 && backlog[.bytes] == 1200 && backlog[.batches] == 2 && backlog[.refusedEvents] == 1)
        #expect(backlog[.lastDeliveryMillis] == 2_000 && backlog[.lastFailureMillis] == 4_000)
        #expect(backlog[.lastFailureKind] == UInt64(DeliveryFailure.unavailable.rawValue) && backlog[.lastFailureStatus] == 0)
        // A hard link planted as a counter file is refused like `.dropped`.
        try FileManager.default.removeItem(atPath: layout.deliveryFile)
        #expect(link(layout.activeFile, layout.deliveryFile) == 0)
        #expect(throws: SpoolError.self) { try writer.recordDelivery(events: 1, bytes: 1, nowMillis: 6_000) }
        #expect(spool.lines == [#"{"n":1,"pad":""}"#])
    }
}
