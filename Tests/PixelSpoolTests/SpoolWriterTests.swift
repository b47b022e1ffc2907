import Foundation
import Testing
import PixelCore
@testable import PixelSpool

/// A fresh spool directory under the system temp dir, removed afterwards.
final class TempSpool {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "pixelgate-spool-test-" + UUID().uuidString
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    var eventFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".ndjson") }.sorted()
    }

    /// Every line of every event file, sealed files first (oldest first), then the active one.
    var lines: [String] {
        let names = eventFiles.filter { $0 != "current.ndjson" } + eventFiles.filter { $0 == "current.ndjson" }
        return names.flatMap { name -> [String] in
            let text = (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? ""
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? "" }
}

func line(_ n: Int, pad: Int = 0) -> [UInt8] {
    Array(#"{"n":\#(n),"pad":"\#(String(repeating: "x", count: pad))"}"#.utf8) + [0x0A]
}

@Suite("Spool writer (SPEC §6)")
struct SpoolWriterTests {
    @Test func createsTheDirectoryAndAppendsWholeLines() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path + "/nested/dir")
        for n in 0..<3 { try writer.append(line(n)) }
        let text = try String(contentsOfFile: spool.path + "/nested/dir/current.ndjson", encoding: .utf8)
        #expect(text == #"{"n":0,"pad":""}"# + "\n" + #"{"n":1,"pad":""}"# + "\n" + #"{"n":2,"pad":""}"# + "\n")
    }

    @Test func sealsBySizeAndKeepsEveryLineInOrder() throws {
        let spool = TempSpool()
        var settings = SpoolSettings()
        settings.sealBytes = 4096
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        var sealed: [String] = []
        for n in 0..<100 {
            if let name = try writer.append(line(n, pad: 200)).sealedAs { sealed.append(name) }
        }
        #expect(sealed.count == 100 * 217 / 4096)
        #expect(spool.eventFiles.filter(SpoolLayout.isSealed).sorted() == sealed.sorted())
        #expect(spool.lines.map { Int($0.dropFirst(5).prefix { $0 != "," })! } == Array(0..<100))
        for name in sealed {
            let size = spool.read(name).utf8.count
            #expect(size >= 4096 && size < 4096 + 217)
        }
    }

    @Test func sealsByAgeOfTheActiveFile() throws {
        let spool = TempSpool()
        var settings = SpoolSettings()
        settings.sealSeconds = 60
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        #expect(try writer.append(line(1)).sealedAs == nil)
        #expect(try writer.sealIfDue() == nil)
        // The lock file's mtime is the active file's birth: make it old.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -61)], ofItemAtPath: spool.path + "/.lock")
        let sealed = try #require(try writer.append(line(2)).sealedAs)
        #expect(spool.read(sealed) == String(decoding: line(1) + line(2), as: UTF8.self))
        // The next append starts a new active file with a fresh birth time.
        #expect(try writer.append(line(3)).sealedAs == nil)
        #expect(spool.read("current.ndjson") == String(decoding: line(3), as: UTF8.self))
    }

    @Test func sealIfDueSealsAnIdleOldFileAndLeavesAnEmptyOneAlone() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        #expect(try writer.sealIfDue(force: true) == nil)
        try writer.append(line(1))
        let name = try #require(try writer.sealIfDue(force: true))
        #expect(SpoolLayout.isSealed(name))
        #expect(spool.eventFiles == [name])
    }

    @Test func aWriterNoticesAnotherProcessSealedItsFile() throws {
        // Two writers: separate open files, so their flocks exclude each other
        // as two processes' would.
        let spool = TempSpool()
        let a = SpoolWriter(directory: spool.path)
        let b = SpoolWriter(directory: spool.path)
        try a.append(line(1))
        try b.append(line(2))
        let sealed = try #require(try b.sealIfDue(force: true))
        try a.append(line(3))
        #expect(spool.read(sealed) == String(decoding: line(1) + line(2), as: UTF8.self))
        #expect(spool.read("current.ndjson") == String(decoding: line(3), as: UTF8.self))
    }

    @Test func aTornLastLineIsCutBeforeTheNextAppend() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(line(1))
        // A writer killed mid-write leaves half a line behind.
        let handle = try #require(FileHandle(forWritingAtPath: spool.path + "/current.ndjson"))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"n":2,"pa"#.utf8))
        try handle.close()
        let report = try writer.append(line(3))
        #expect(report.repairedBytes == 10)
        #expect(spool.lines == [#"{"n":1,"pad":""}"#, #"{"n":3,"pad":""}"#])
    }

    @Test func aFileOfOnlyGarbageIsCutToNothing() throws {
        let spool = TempSpool()
        try FileManager.default.createDirectory(atPath: spool.path, withIntermediateDirectories: true)
        try Data(repeating: UInt8(ascii: "z"), count: 200_000).write(to: URL(fileURLWithPath: spool.path + "/current.ndjson"))
        let writer = SpoolWriter(directory: spool.path)
        #expect(try writer.append(line(1)).repairedBytes == 200_000)
        #expect(spool.lines == [#"{"n":1,"pad":""}"#])
    }

    @Test(arguments: [FsyncPolicy.never, .always, .interval(millis: 1)])
    func everyFsyncPolicyKeepsTheSameLines(_ policy: FsyncPolicy) throws {
        let spool = TempSpool()
        var settings = SpoolSettings()
        settings.fsync = policy
        settings.sealBytes = 4096
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        for n in 0..<50 { try writer.append(line(n, pad: 100)) }
        #expect(spool.lines.count == 50)
    }

    @Test func rejectedHitsAreCappedInSize() throws {
        let spool = TempSpool()
        var settings = SpoolSettings()
        settings.rejectedMaxBytes = 1000
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        var kept = 0
        for n in 0..<20 where try writer.appendRejected(line(n, pad: 80)) { kept += 1 }
        #expect(kept == 1000 / 97)
        let size = try FileManager.default.attributesOfItem(atPath: spool.path + "/rejected/hits.ndjson")[.size] as? Int
        #expect(size == kept * 97)
        // Rejected hits never count as events.
        #expect(spool.eventFiles.isEmpty)
    }

    @Test func sinkMapsSpoolErrorsToSinkErrors() throws {
        let spool = TempSpool()
        try FileManager.default.createDirectory(atPath: spool.path, withIntermediateDirectories: true)
        // A directory where the active file should be: open fails (even as root).
        try FileManager.default.createDirectory(atPath: spool.path + "/current.ndjson", withIntermediateDirectories: true)
        var logged: [String] = []
        let sink = SpoolSink(writer: SpoolWriter(directory: spool.path), log: { logged.append($1) })
        let event = try EventEngine.build(type: .page, query: "writeKey=k&anonymousId=a",
                                         facts: HitFacts(receivedAtMillis: 0, messageId: "m", userAgent: nil, clientIP: ""))
        #expect(throws: SinkError.self) { try sink.store(event) }
        do throws(SinkError) {
            try sink.store(event)
        } catch {
            #expect(error.detail.contains("current.ndjson"))
            #expect(error.detail.contains("Is a directory"))
        }
    }

    @Test func statusCountsActiveSealedAndRejected() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(line(1))
        try writer.sealIfDue(force: true)
        try writer.append(line(2, pad: 10))
        _ = try writer.appendRejected(line(3))
        let status = try SpoolStatus.inspect(SpoolLayout(directory: spool.path))
        #expect(status == SpoolStatus(activeBytes: 27, sealedFiles: 1, sealedBytes: 17, rejectedBytes: 17))
        try SpoolStatus.probeWritable(SpoolLayout(directory: spool.path))
        #expect(!FileManager.default.fileExists(atPath: spool.path + "/.probe-\(getpid())"))
    }

    @Test func sealedNamesSortByTime() {
        let a = SpoolLayout.sealedName(nanos: 1_795_785_972_345_000_999, pid: 99999, random: 0xFFFF_FFFF)
        let b = SpoolLayout.sealedName(nanos: 1_795_785_972_345_001_000, pid: 1, random: 0)
        #expect(a == "sealed-20261127T132612.345000999Z-99999-ffffffff.ndjson")
        #expect(b == "sealed-20261127T132612.345001000Z-1-00000000.ndjson")
        #expect(a < b)
        #expect(SpoolLayout.isSealed(a) && !SpoolLayout.isSealed("current.ndjson"))
    }
}
