import Foundation
import Testing
import PixelCore
@testable import PixelSpool
import PixelSystem

/// The spool's promise under faults PixelSystem injects (SPEC §6, §7): a
/// throw leaves nothing of the line, so the hit's 503 is honest; what fails
/// once the line is in is reported, never thrown, so no stored event is
/// answered 503 and sent again.
@Suite("Spool writer under injected faults")
struct SpoolFaultTests {
    func lines(_ spool: TempSpool) -> [String] { spool.lines }

    @Test func aFullDiskMidLineLeavesNothingOfItAndTheNextLineLandsWhole() throws {
        let spool = TempSpool()
        defer { Faults.clear(under: spool.path) }
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(line(1, pad: 100))
        Faults.inject("write", under: spool.path, errno: ENOSPC)
        #expect(throws: SpoolError.self) { try writer.append(line(2, pad: 100)) }
        #expect(lines(spool).count == 1)
        try writer.append(line(3, pad: 100))
        #expect(lines(spool).map { $0.prefix(6) } == [#"{"n":1"#, #"{"n":3"#])
    }

    @Test func aFailedSyncUnderFsyncAlwaysTakesTheLineBack() throws {
        let spool = TempSpool()
        defer { Faults.clear(under: spool.path) }
        var settings = SpoolSettings()
        settings.fsync = .always
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        try writer.append(line(1))
        Faults.inject("fdatasync", under: spool.path, errno: EIO)
        do {
            try writer.append(line(2))
            Issue.record("a failed fdatasync under fsync always did not throw")
        } catch {
            #expect(error.errno == EIO)
        }
        #expect(lines(spool).map { $0.prefix(6) } == [#"{"n":1"#])
    }

    @Test func aFailedIntervalSyncIsReportedAndTheLineKept() throws {
        let spool = TempSpool()
        defer { Faults.clear(under: spool.path) }
        var settings = SpoolSettings()
        settings.fsync = .interval(millis: 1)
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        try writer.append(line(1))
        SystemClock.sleep(millis: 20)
        Faults.inject("fdatasync", under: spool.path, errno: EIO, times: 4)
        let report = try writer.append(line(2))
        #expect(report.problems.contains { $0.contains("interval fsync failed") })
        #expect(lines(spool).count == 2)
    }

    @Test func aFailedSealIsReportedAndTheLineKept() throws {
        let spool = TempSpool()
        defer { Faults.clear(under: spool.path) }
        var settings = SpoolSettings()
        settings.sealBytes = 4096
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        try writer.append(line(1, pad: 3000))
        Faults.inject("rename", under: spool.path, errno: EXDEV)
        let report = try writer.append(line(2, pad: 3000))
        #expect(report.sealedAs == nil)
        #expect(report.problems.contains { $0.contains("could not seal") })
        #expect(lines(spool).count == 2)
        // The next append seals what is due, losing nothing.
        let next = try writer.append(line(3))
        #expect(next.sealedAs != nil)
        #expect(lines(spool).map { $0.prefix(6) } == [#"{"n":1"#, #"{"n":2"#, #"{"n":3"#])
    }
}
