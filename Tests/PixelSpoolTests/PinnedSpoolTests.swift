import Foundation
import Testing
import PixelCore
import PixelSystem
@testable import PixelSpool

/// The spool reached by descriptor (issue 26): each test is a finding of
/// the hostile review of f5d6bae, played in-process as a member of the
/// spool's group (or root standing in for one on a host without
/// `fs.protected_hardlinks`) would, and each failed there.
@Suite("The spool is reached through pinned descriptors")
struct PinnedSpoolTests {
    /// A directory outside the spool, standing for another account's.
    final class Elsewhere {
        let path = NSTemporaryDirectory() + "pixelgate-elsewhere-" + UUID().uuidString
        init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    }

    static func mode(_ path: String) -> (mode: Int, uid: Int, gid: Int, links: Int) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return (-1, -1, -1, -1) }
        return (Int(st.st_mode & 0o7777), Int(st.st_uid), Int(st.st_gid), Int(st.st_nlink))
    }

    /// `rejected/` swapped for a link after the writer checked it: the
    /// writer went on opening `rejected/<name>` by path, and wrote (and
    /// adopted a file) in the other directory. Now the swap is seen and the
    /// link refused; a `rejected/` an operator moved away is followed by a
    /// new one, made and checked.
    @Test func aRejectedSwappedForALinkAfterItsCheckIsNotFollowed() throws {
        let spool = TempSpool()
        let elsewhere = Elsewhere()
        let writer = SpoolWriter(directory: spool.path)
        #expect(try writer.appendRejected(line(1)))
        try FileManager.default.moveItem(atPath: spool.path + "/rejected", toPath: spool.path + "/rejected.moved")
        try FileManager.default.createSymbolicLink(atPath: spool.path + "/rejected", withDestinationPath: elsewhere.path)
        let error = #expect(throws: SpoolError.self) { _ = try writer.appendRejected(line(2)) }
        #expect(error?.unsafeBecause?.contains("not a directory") == true, "\(String(describing: error))")
        #expect(throws: SpoolError.self) { _ = try writer.appendRejected(line(3), file: SpoolLayout.rejectedUpstreamName) }
        #expect(elsewhere.names.isEmpty, "written through the link: \(elsewhere.names)")
        #expect(spool.read("rejected.moved/hits.ndjson") == String(decoding: line(1), as: UTF8.self))
        // The operator's move: the link gone, the next record starts a new rejected/.
        try FileManager.default.removeItem(atPath: spool.path + "/rejected")
        #expect(try writer.appendRejected(line(4)))
        #expect(spool.read("rejected/hits.ndjson") == String(decoding: line(4), as: UTF8.self))
    }

    /// A `rejected` planted as a link to another spool's directory: root's
    /// requeue moved that directory's `upstream.ndjson` into this spool.
    @Test func requeueNeverTakesAFileThroughAPlantedRejectedLink() throws {
        let spool = TempSpool()
        let elsewhere = Elsewhere()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(line(0))
        try Data(line(7)).write(to: URL(fileURLWithPath: elsewhere.path + "/upstream.ndjson"))
        try FileManager.default.createSymbolicLink(atPath: spool.path + "/rejected", withDestinationPath: elsewhere.path)
        #expect(throws: SpoolError.self) { _ = try writer.requeueRefused() }
        #expect(elsewhere.names == ["upstream.ndjson"])
        #expect(spool.eventFiles == ["current.ndjson"])
    }

    /// A hard link to a root 0600 file elsewhere, planted as `.lock`: root's
    /// `check` chmod-ed it 0660 and gave it to the spool's group. Nothing
    /// with a second name is opened for use, and only a file the open itself
    /// made is ever chmod-ed or chown-ed.
    @Test(.enabled(if: geteuid() == 0, "hard links to root's files are made as root"),
          arguments: [SpoolLayout.lockName, SpoolLayout.unstoredCountsName, "current.ndjson"])
    func aHardLinkedFileIsNeitherUsedNorHandedOver(_ name: String) throws {
        let spool = TempSpool()
        let elsewhere = Elsewhere()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(line(0))
        let group = try #require(Groups.id(of: "www-data"))
        chown(spool.path, 0, group)
        chmod(spool.path, 0o2770)
        let secret = elsewhere.path + "/secret"
        try Data("root's own\n".utf8).write(to: URL(fileURLWithPath: secret))
        chmod(secret, 0o600)
        try? FileManager.default.removeItem(atPath: spool.path + "/" + name)
        #expect(link(secret, spool.path + "/" + name) == 0)
        let fresh = SpoolWriter(directory: spool.path)
        #expect(throws: SpoolError.self) {
            try fresh.append(line(1))
            try fresh.countUnstored(.unavailable)
        }
        let after = Self.mode(secret)
        #expect(after.mode == 0o600 && after.uid == 0 && after.gid == 0, "the linked file became \(after)")
        #expect((try? String(contentsOfFile: secret, encoding: .utf8)) == "root's own\n")
    }

    /// The same in `rejected/`: root's drain appended a refused record to a
    /// linked root file, and stats' readers could then read it.
    @Test(.enabled(if: geteuid() == 0, "hard links to root's files are made as root"))
    func aHardLinkInRejectedIsNotWrittenThrough() throws {
        let spool = TempSpool()
        let elsewhere = Elsewhere()
        let writer = SpoolWriter(directory: spool.path)
        #expect(try writer.appendRejected(line(1)))
        let secret = elsewhere.path + "/secret"
        try Data("root's own\n".utf8).write(to: URL(fileURLWithPath: secret))
        chmod(secret, 0o600)
        #expect(link(secret, spool.path + "/rejected/" + SpoolLayout.setAsideName) == 0)
        #expect(throws: SpoolError.self) { _ = try writer.appendRejected(line(2), file: SpoolLayout.setAsideName) }
        #expect((try? String(contentsOfFile: secret, encoding: .utf8)) == "root's own\n")
        #expect(Self.mode(secret).mode == 0o600)
    }

    /// A sparse sealed file of 2 GiB that sorts first: `stats` and the drain
    /// allocated its size, and nothing after it was ever delivered. It is
    /// now set aside, unread, and the files after it go out.
    @Test func aSealedFileNoSealMakesIsSetAsideAndTheRestDelivered() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        for n in 0..<4 { try writer.append(DrainWithInMemoryDataPlaneTests.record(n, of: 4)) }
        #expect(try writer.sealIfDue(force: true) != nil)
        let huge = spool.path + "/sealed-00000000T000000.000000000Z-1-00000000.ndjson"
        let fd = open(huge, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0 && ftruncate(fd, 2 << 30) == 0)
        close(fd)
        let backlog = try SpoolStatus.backlog(writer.layout, nowMillis: SystemClock.nowMillis())
        #expect(backlog.events == 4)
        var warnings: [String] = []
        let report = SpoolDrain(writer: writer, client: InMemoryDataPlane(), settings: DrainSettings(),
                                log: { level, text in if level == .warn { warnings.append(text) } }).runOnce()
        #expect(report.stop == nil && report.delivered == 4, "\(report)")
        #expect(!FileManager.default.fileExists(atPath: huge))
        #expect(FileManager.default.fileExists(atPath: spool.path + "/rejected/oversized-" + (huge as NSString).lastPathComponent))
        #expect(warnings.contains { $0.contains("more than a seal makes") }, "\(warnings)")
    }

    /// `.lock` held by another (any member of a shared spool's group can
    /// take it): every hit waited without end. Now an append gives up after
    /// the wait it is given, and nothing of the line is written.
    @Test func aSpoolLockHeldOnFailsTheAppendAfterItsWait() throws {
        let spool = TempSpool()
        let writer = try Self.writerWaiting200ms(spool)
        try Self.appendWaitsForAndThenTakes(open(spool.path + "/.lock", O_RDWR), writer, spool)
    }

    /// A writer that waits 200 ms for the spool lock, one line appended.
    static func writerWaiting200ms(_ spool: TempSpool) throws -> SpoolWriter {
        var settings = SpoolSettings()
        settings.lockWaitMillis = 200
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        try writer.append(line(0))
        return writer
    }

    /// While `holder` (an open `.lock`) is locked, an append by `writer`
    /// (a 200 ms wait) fails for the wait and stores nothing; once it is let
    /// go, the next append is stored.
    static func appendWaitsForAndThenTakes(_ holder: Int32, _ writer: SpoolWriter, _ spool: TempSpool) throws {
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)
        let error = #expect(throws: SpoolError.self) { try writer.append(line(1)) }
        #expect(error?.errno == EWOULDBLOCK && "\(error.map { "\($0)" } ?? "")".contains("held by another process for over 200 ms"), "\(String(describing: error))")
        flock(holder, LOCK_UN)
        try writer.append(line(2))
        #expect(spool.lines.count == 2)
    }

    /// `.drain.lock` held: every `drain --once` ended at once, "another
    /// drain is at work", exit 0, while the backlog grew. A lock whose
    /// holder has made no progress for longer than a pass can take is now
    /// reported, and the pass fails.
    @Test func aDrainLockHeldWithoutProgressIsReported() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(line(0))
        let lock = spool.path + "/" + SpoolLayout.drainLockName
        let holder = open(lock, O_RDWR | O_CREAT, 0o600)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)
        // A drain at work stamps the lock as it goes: fresh, it is one.
        let atWork = DrainWithInMemoryDataPlaneTests.drain(writer, InMemoryDataPlane(), giveUpAfterMillis: 1000)
        #expect(atWork.busy && atWork.stop == nil)
        var times = [timespec(tv_sec: time(nil) - 600, tv_nsec: 0), timespec(tv_sec: time(nil) - 600, tv_nsec: 0)]
        #expect(futimens(holder, &times) == 0)
        let stuck = DrainWithInMemoryDataPlaneTests.drain(writer, InMemoryDataPlane(), giveUpAfterMillis: 1000)
        #expect(stuck.busy)
        guard case .localFailure(let why) = stuck.stop else { Issue.record("not reported: \(stuck)"); return }
        #expect(why.contains("held for") && why.contains("no drain progress") && why.contains("fuser"), "\(why)")
    }

    /// What a group member may plant under a spool file's name is refused
    /// as it is opened, before it is used: a FIFO (it would block), a file
    /// of another account, a link.
    @Test(.enabled(if: geteuid() == 0, "a file of another account is made as root"))
    func whatIsOpenedIsCheckedBeforeUse() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(DrainWithInMemoryDataPlaneTests.record(0, of: 1))
        #expect(try writer.sealIfDue(force: true) != nil)
        // Another account's file as the active file, in a spool not shared with a group.
        let active = spool.path + "/current.ndjson"
        try Data(line(9)).write(to: URL(fileURLWithPath: active))
        chown(active, 65534, 65534)
        let error = #expect(throws: SpoolError.self) { try SpoolWriter(directory: spool.path).append(line(1)) }
        #expect(error?.unsafeBecause?.contains("belongs to uid 65534") == true, "\(String(describing: error))")
        try FileManager.default.removeItem(atPath: active)
        // A FIFO sealed file is skipped without blocking; the real one goes out.
        #expect(mkfifo(spool.path + "/sealed-00000000T000000.000000000Z-1-00000001.ndjson", 0o600) == 0)
        let plane = InMemoryDataPlane()
        let report = DrainWithInMemoryDataPlaneTests.drain(writer, plane)
        #expect(report.stop == nil && report.delivered == 1, "\(report)")
    }

    /// The seam: a failing `openat` of a spool file or of `rejected/` is a
    /// thrown error naming it, and leaves the spool as it was.
    @Test func aFailedOpenatIsReportedAndChangesNothing() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(line(0))
        Faults.inject("open", under: spool.path + "/rejected", errno: EACCES)
        defer { Faults.clear(under: spool.path + "/rejected") }
        let error = #expect(throws: SpoolError.self) { _ = try writer.appendRejected(line(1)) }
        #expect(error?.errno == EACCES && error?.path.hasPrefix(spool.path + "/rejected") == true, "\(String(describing: error))")
        #expect(spool.lines.count == 1)
        #expect(try writer.appendRejected(line(2)))
    }

    /// Stream, never slurp: the drain holds a window of a sealed file at a
    /// time (the window, and the rest of the line that crosses its end),
    /// and the windows together cover every line once, each whole.
    @Test func aSealedFileIsReadAWindowAtATime() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        let total = 3000
        for n in 0..<total {
            try writer.append(Array(#"{"writeKey":"wk","event":{"type":"track","anonymousId":"a\#(n % 7)","messageId":"m-\#(n)","pad":"\#(String(repeating: "x", count: n % 900))"}}"#.utf8) + [0x0A])
        }
        let sealed = try #require(try writer.sealIfDue(force: true))
        let path = spool.path + "/" + sealed
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let file = SpoolFile(fd: fd, path: path, size: Int(st.st_size))
        let windowBytes = 64 * 1024
        let planner = BatchPlanner(file: file, maxBatchBytes: 16 * 1024, windowBytes: windowBytes, client: InMemoryDataPlane())
        var start = 0, windows = 0, events = 0, largest = 0
        var ids = Set<String>()
        while start < file.size {
            let window = planner.plan(from: start, done: [])
            #expect(window.readError == nil && window.setAside.isEmpty)
            largest = max(largest, window.bytes.bytes.count)
            for batch in window.batches {
                events += batch.lines.count
                for range in batch.lines {
                    let line = String(decoding: window.bytes[range], as: UTF8.self)
                    #expect(line.hasPrefix("{") && line.hasSuffix("}"), "a cut line: \(line.prefix(40))…\(line.suffix(40))")
                    if let at = line.range(of: #""messageId":""#) { ids.insert(String(line[at.upperBound...].prefix { $0 != "\"" })) }
                }
            }
            #expect(window.end > start)
            start = window.end
            windows += 1
        }
        #expect(events == total && ids.count == total)
        #expect(windows > 10, "\(windows) windows of a \(file.size)-byte file")
        #expect(largest <= windowBytes + (1 << 20), "a window held \(largest) bytes")
    }

    /// `rejected/` files are read a megabyte at a time, lines whole across
    /// the pieces, and a line longer than the limit is passed over.
    @Test func rejectedFilesAreReadALineAtATime() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        let long = [UInt8](repeating: 0x61, count: 3 << 20) + [0x0A]
        let lines = (0..<2000).map { Array("line-\($0)-\(String(repeating: "y", count: 1500))\n".utf8) }
        #expect(try writer.appendRejected(lines[0..<1000].flatMap { $0 }, file: SpoolLayout.setAsideName))
        #expect(try writer.appendRejected(long, file: SpoolLayout.setAsideName))
        #expect(try writer.appendRejected(lines[1000...].flatMap { $0 }, file: SpoolLayout.setAsideName))
        var seen: [String] = []
        try SpoolStatus.forEachLine(SpoolLayout.setAsideName, in: SpoolPlace(owner: try writer.spoolOwnership(), directory: try writer.rejectedDirectory()),
                                    longestLine: 1 << 20) {
            seen.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(seen.count == 2000)
        #expect(seen == lines.map { String(decoding: $0.dropLast(), as: UTF8.self) })
    }

    /// A spool shared as README sets it up: 2770 root:www-data.
    static func sharedSpool(_ spool: TempSpool) throws -> SpoolWriter {
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(DrainWithInMemoryDataPlaneTests.record(0, of: 1))
        chown(spool.path, 0, 33)
        chmod(spool.path, 0o2770)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? [] { chown(spool.path + "/" + name, 0, 33) }
        return SpoolWriter(directory: spool.path)
    }

    /// `rejected/` made by the web server's user (its first refused hit) is
    /// the spool's, for root's drain and for the `pixelgate` user alike; one
    /// of another group is not.
    @Test(.enabled(if: geteuid() == 0, "the spool's users are played as root"))
    func aRejectedMadeByAnotherOfTheSpoolsUsersIsUsed() throws {
        let spool = TempSpool()
        let writer = try Self.sharedSpool(spool)
        let rejected = spool.path + "/rejected"
        #expect(mkdir(rejected, 0o2770) == 0 && chown(rejected, 33, 33) == 0 && chmod(rejected, 0o2770) == 0)
        #expect(try writer.appendRejected(line(1)))
        #expect(spool.read("rejected/hits.ndjson") == String(decoding: line(1), as: UTF8.self))
        let other = TempSpool()
        let second = try Self.sharedSpool(other)
        #expect(mkdir(other.path + "/rejected", 0o770) == 0 && chown(other.path + "/rejected", 0, 0) == 0)
        let error = #expect(throws: SpoolError.self) { _ = try second.appendRejected(line(1)) }
        #expect(error?.unsafeBecause?.contains("not to this spool's users") == true, "\(String(describing: error))")
    }

    /// A root file renamed into a shared spool by a member of its group
    /// (from a directory of the same file system it may write): root's drain
    /// sent it, or copied what it could not read into group-readable
    /// `rejected/`. Everything made in a shared spool has its group; this
    /// does not, and is skipped.
    @Test(.enabled(if: geteuid() == 0, "root's file is made as root"))
    func aRootFileRenamedIntoASharedSpoolIsNotRead() throws {
        let spool = TempSpool()
        let writer = try Self.sharedSpool(spool)
        let planted = spool.path + "/sealed-00000000T000000.000000000Z-1-00000000.ndjson"
        try Data(DrainWithInMemoryDataPlaneTests.record(7, of: 8) + Array("root's own secret\n".utf8)).write(to: URL(fileURLWithPath: planted))
        chown(planted, 0, 0)
        chmod(planted, 0o600)
        var warnings: [String] = []
        let plane = InMemoryDataPlane()
        let report = SpoolDrain(writer: writer, client: plane, settings: DrainSettings(),
                                log: { level, text in if level == .warn { warnings.append(text) } }).runOnce()
        #expect(report.stop == nil && report.delivered == 1 && report.setAside == 0, "\(report)")
        #expect(plane.delivered.flatMap(\.events).allSatisfy { !$0.contains("m-7") })
        #expect(FileManager.default.fileExists(atPath: planted))
        #expect(!spool.read("rejected/unreadable.ndjson").contains("secret"))
        #expect(warnings.contains { $0.contains("belongs to uid 0 and group 0") }, "\(warnings)")
    }

    /// Root's `stats` read counters through a hard link (to /etc/shadow on a
    /// host without protected_hardlinks) and printed its bytes as numbers.
    @Test(.enabled(if: geteuid() == 0, "hard links to root's files are made as root"))
    func statsReadsNothingThroughAHardLink() throws {
        let spool = TempSpool()
        let writer = try Self.sharedSpool(spool)
        try writer.countRefused(PixelError.refusalCodes[0])
        let elsewhere = Elsewhere()
        let secret = elsewhere.path + "/secret"
        try Data([UInt8](repeating: 0x41, count: 256)).write(to: URL(fileURLWithPath: secret))
        chown(secret, 0, 33)  // even one that looks like the spool's
        for name in [SpoolLayout.refusedCountsName, SpoolLayout.deliveryName] {
            try? FileManager.default.removeItem(atPath: spool.path + "/" + name)
            #expect(link(secret, spool.path + "/" + name) == 0)
        }
        let backlog = try SpoolStatus.backlog(writer.layout, nowMillis: SystemClock.nowMillis())
        #expect(backlog.refused.allSatisfy { $0 == 0 } && backlog.delivery.allSatisfy { $0 == 0 }, "\(backlog.refused) \(backlog.delivery)")
    }

    /// `.lock` removed and made again by a member of the group: writers
    /// that had the old one open went on locking a file no one else did,
    /// and an append could land in a file the drain had read.
    @Test func aLockFileMadeAgainIsTheOneLocked() throws {
        let spool = TempSpool()
        let writer = try Self.writerWaiting200ms(spool)
        try FileManager.default.removeItem(atPath: spool.path + "/.lock")
        try Self.appendWaitsForAndThenTakes(open(spool.path + "/.lock", O_RDWR | O_CREAT | O_EXCL, 0o600), writer, spool)
    }

    /// A run of bytes that is no record is kept in `rejected/`, but of a
    /// long one only its first megabyte and its length: no file can make
    /// the record of it (six times larger as JSON for NULs) huge.
    @Test func aLongUnreadableLineIsKeptCut() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        try writer.append(DrainWithInMemoryDataPlaneTests.record(0, of: 1))
        try writer.append([UInt8](repeating: 0, count: 3 << 20) + [0x0A])
        #expect(try writer.sealIfDue(force: true) != nil)
        let report = DrainWithInMemoryDataPlaneTests.drain(writer, InMemoryDataPlane())
        #expect(report.delivered == 1 && report.setAside == 1, "\(report)")
        let kept = spool.read("rejected/unreadable.ndjson")
        #expect(kept.utf8.count < 7 << 20 && kept.contains("\"cutFrom\":\"3145728 bytes\""), "\(kept.utf8.count) bytes kept")
    }

    /// The seam, for the checks made after each open: a failing `fstat` of
    /// what was opened, or `fstatat` of an entry, is a thrown error naming
    /// it; the descriptor opened is closed, and the spool is as it was.
    @Test(arguments: [("fstat", "/current.ndjson"), ("fstat", "/.lock"), ("fstatat", "/current.ndjson"), ("fstatat", "/.lock")])
    func aFailedFstatAfterAnOpenLeavesNothingOpen(_ call: String, _ name: String) throws {
        let spool = TempSpool()
        try SpoolWriter(directory: spool.path).append(line(0))
        // This spool's descriptors only: the cases run at once, in one
        // process, beside other tests opening files of their own.
        let descriptors = {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).filter { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd))?.hasPrefix(spool.path) == true
            }.count
        }
        let writer = SpoolWriter(directory: spool.path)
        // An entry is looked at (fstatat) once the writer has its files open;
        // what it opens is looked at (fstat) as it opens them.
        let warm = call == "fstatat"
        if warm { try writer.append(line(1)) }
        let before = descriptors()
        Faults.inject(call, under: spool.path + name, errno: EIO)
        defer { Faults.clear(under: spool.path + name) }
        let error = #expect(throws: SpoolError.self) { try writer.append(line(2)) }
        #expect(error?.errno == EIO && error?.path == spool.path + name, "\(String(describing: error))")
        // Nothing opened for the failed append stays open: a cold writer
        // keeps the spool directory and the lock, a warm one what it had.
        #expect(descriptors() <= before + (warm ? 0 : 2), "\(descriptors() - before) descriptors left open")
        #expect(spool.lines.count == (warm ? 2 : 1))
        try writer.append(line(3))
        #expect(spool.lines.count == (warm ? 3 : 2))
    }
}
