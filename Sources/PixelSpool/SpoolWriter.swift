import PixelSystem
import PixelCore

/// What an append did besides appending, for the log.
public struct AppendReport: Sendable, Equatable {
    /// Bytes of a torn last line (a writer killed mid-write) cut off first.
    public var repairedBytes = 0
    /// The name the active file was sealed under, if this append sealed it.
    public var sealedAs: String?
    /// What failed after the line was safely written (an interval fsync, a
    /// seal): the line is kept and the hit is answered 200, but the
    /// operator should know.
    public var problems: [String] = []
}

/// Appends lines to a spool directory shared by any number of processes.
///
/// Every append runs under an exclusive `flock` on the spool's lock file:
/// check that our descriptor is still the active file (a sealer may have
/// renamed it), cut a torn tail left by a killed writer, write the line in
/// one `write(2)`, and undo a short write. So no line is ever torn, merged
/// or lost while the call returns normally, and a throw means nothing of the
/// line remains (with `fsync always`, a failed sync takes the line back
/// too). What fails once the line is in (an interval sync, a seal) is
/// reported, not thrown. One instance serves one thread (a CGI process, a
/// FastCGI worker's serving thread), one request at a time.
public final class SpoolWriter {
    public let layout: SpoolLayout
    public let settings: SpoolSettings
    private var lockFD: Int32 = -1
    /// The lock file's identity when opened: one removed and made again
    /// (any member of a shared spool's group may) is opened anew, so that
    /// every writer locks the same file.
    private var lockIdentity: (dev: UInt, ino: UInt) = (0, 0)
    /// The spool directory's owner and modes, checked when the lock is
    /// first taken (SPEC §7a).
    private var ownership: SpoolOwnership?
    /// `rejected/`, made, opened and checked once by this writer.
    private var rejected: PinnedDirectory?
    private var activeFD: Int32 = -1
    private var activeIdentity: (dev: UInt, ino: UInt) = (0, 0)
    /// When the active file was created (the lock file's stamp), read when
    /// we open it rather than on every append.
    private var activeBornMillis: Int64 = 0
    /// The active file's size after our last append: while it is unchanged,
    /// its last byte is our newline and needs no reading.
    private var sizeAfterOurAppend = -1
    private var generator = SystemRandomNumberGenerator()

    public init(directory: String, settings: SpoolSettings = SpoolSettings()) {
        self.layout = SpoolLayout(directory: directory)
        self.settings = settings
    }

    deinit {
        Sys.close(activeFD)
        Sys.close(lockFD)
    }

    /// Appends one complete line (ending in `\n`) to the active file.
    @discardableResult
    public func append(_ line: [UInt8]) throws(SpoolError) -> AppendReport {
        precondition(line.last == 0x0A, "a spool line ends with a newline")
        var report = AppendReport()
        let fd = try withLock { () throws(SpoolError) -> Int32 in
            let (fd, currentSize) = try openActive()
            var size = currentSize
            if size > 0 && size != sizeAfterOurAppend {
                let kept = try lastCompleteLineEnd(fd, size: size, path: layout.activeFile)
                if kept < size {
                    try Sys.ftruncate(fd, kept, layout.activeFile)
                    report.repairedBytes = size - kept
                    size = kept
                }
            }
            do throws(SpoolError) {
                try Sys.writeAll(fd, line, layout.activeFile)
            } catch {
                // Disk full or over a file-size limit: take the partial line back.
                try? Sys.ftruncate(fd, size, layout.activeFile)
                throw error
            }
            let written = line.count
            sizeAfterOurAppend = size + written
            if settings.fsync == .always {
                // Under the lock, so that a failed sync can still take our
                // line back: nobody has appended after it.
                do throws(SpoolError) {
                    try Sys.fdatasync(fd, layout.activeFile)
                } catch {
                    try? Sys.ftruncate(fd, size, layout.activeFile)
                    sizeAfterOurAppend = size
                    throw error
                }
            }
            // The line is in: from here on a failure is reported, never
            // thrown, so the hit is not answered 503 for a stored event.
            if case .interval = settings.fsync {
                do throws(SpoolError) { try syncIfDue(fd) } catch { report.problems.append("interval fsync failed: \(error)") }
            }
            let tooOld = SystemClock.nowMillis() - activeBornMillis >= Int64(settings.sealSeconds) * 1000
            if size + written >= settings.sealBytes || tooOld {
                do throws(SpoolError) {
                    report.sealedAs = try sealActive()
                    activeFD = -1  // closed below
                } catch {
                    report.problems.append("could not seal \(layout.activeFile): \(error)")
                }
            }
            return fd
        }
        if report.sealedAs != nil { Sys.close(fd) }
        return report
    }

    /// Seals the active file if it is non-empty and older than the seal
    /// age (or `force`). For the drain and `pixelgate check`; safe while
    /// writers append, since it takes the same lock.
    @discardableResult
    public func sealIfDue(force: Bool = false) throws(SpoolError) -> String? {
        try withLock { () throws(SpoolError) -> String? in
            guard let st = try spoolOwnership().directory.statusOf(SpoolLayout.activeName), st.st_size > 0 else { return nil }
            // Our own descriptor would go on pointing at the sealed file.
            if activeFD >= 0 { Sys.close(activeFD); activeFD = -1 }
            let tooOld = try activeAgeMillis() >= Int64(settings.sealSeconds) * 1000
            guard force || tooOld else { return nil }
            return try sealActive()
        }
    }

    /// Appends a record to a file in `rejected/`. Refused hits (the
    /// default file) are capped: past `rejectedMaxBytes` a record is not kept
    /// and false is returned, so no client can fill the disk through them.
    /// Events the data plane refused and unreadable lines set aside are
    /// never dropped to make room: their records are written or this throws.
    public func appendRejected(_ line: [UInt8], file: String = SpoolLayout.rejectedHitsName) throws(SpoolError) -> Bool {
        try withLock { () throws(SpoolError) -> Bool in
            let owner = try spoolOwnership()
            let directory = try rejectedDirectory()
            let fd = try owner.open(file, OpenFlag.readWrite | OpenFlag.append | OpenFlag.create, in: directory)
            let path = directory.pathOf(file)
            defer { Sys.close(fd) }
            var size = Int(try Sys.fstat(fd, path).st_size)
            if file == SpoolLayout.rejectedHitsName && size + line.count > settings.rejectedMaxBytes { return false }
            if size > 0 {
                // A writer killed mid-record: cut its torn tail, or the next
                // record would be glued to it and lost with it.
                let kept = try lastCompleteLineEnd(fd, size: size, path: path)
                if kept < size { try Sys.ftruncate(fd, kept, path); size = kept }
            }
            do throws(SpoolError) {
                try Sys.writeAll(fd, line, path)
                // What the drain keeps is as durable as what a hit stores:
                // the drain moves its progress past these lines next.
                if settings.fsync != .never {
                    try Sys.fdatasync(fd, path)
                    if size == 0 { try directory.sync() }
                }
            } catch {
                try? Sys.ftruncate(fd, size, path)
                throw error
            }
            return true
        }
    }

    /// Adds one to a counter of hits answered but stored nowhere by the
    /// operator's choice (`DroppedHit`), in the spool's `.dropped` file.
    public func countDropped(_ reason: DroppedHit) throws(SpoolError) {
        let slot = DroppedHit.allCases.firstIndex(of: reason)!
        try updateCounters(SpoolLayout.dropCountsName, slots: DroppedHit.allCases.count) { $0[slot] &+= 1 }
    }

    /// Adds one to the count of hits refused for `code` (`PixelError.code`),
    /// in the spool's `.refused` file. A code this version does not know
    /// is not counted.
    public func countRefused(_ code: String) throws(SpoolError) {
        guard let slot = PixelError.refusalCodes.firstIndex(of: code) else { return }
        try updateCounters(SpoolLayout.refusedCountsName, slots: PixelError.refusalCodes.count) { $0[slot] &+= 1 }
    }

    /// Adds one to the count of accepted hits whose event could not be
    /// kept, in the spool's `.unstored` file: written in place, so a full
    /// disk still takes the count once the file exists.
    public func countUnstored(_ reason: UnstoredHit) throws(SpoolError) {
        let slot = UnstoredHit.allCases.firstIndex(of: reason)!
        try updateCounters(SpoolLayout.unstoredCountsName, slots: UnstoredHit.allCases.count) { $0[slot] &+= 1 }
    }

    /// Adds a delivered batch to the spool's `.delivery` totals and stamps
    /// the time of the last delivery. `routes` are the batch's events by
    /// route, where known.
    public func recordDelivery(events: Int, bytes: Int, batches: Int = 1, routes: RouteCounts = RouteCounts(),
                               nowMillis: Int64) throws(SpoolError) {
        try updateCounters(SpoolLayout.deliveryName, slots: DeliverySlot.allCases.count) { counts in
            counts[DeliverySlot.events.rawValue] &+= UInt64(events)
            for route in PixelRoute.allCases {
                counts[DeliverySlot.events(route).rawValue] &+= UInt64(routes[route])
            }
            counts[DeliverySlot.bytes.rawValue] &+= UInt64(bytes)
            counts[DeliverySlot.batches.rawValue] &+= UInt64(batches)
            counts[DeliverySlot.lastDeliveryMillis.rawValue] = UInt64(max(0, nowMillis))
        }
    }

    /// Notes a delivery that failed: when, why, and the data plane's HTTP
    /// status if it answered; `refusedEvents` it refused are added up.
    public func recordDeliveryFailure(_ failure: DeliveryFailure, status: Int, refusedEvents: Int = 0, nowMillis: Int64) throws(SpoolError) {
        try updateCounters(SpoolLayout.deliveryName, slots: DeliverySlot.allCases.count) { counts in
            counts[DeliverySlot.refusedEvents.rawValue] &+= UInt64(refusedEvents)
            counts[DeliverySlot.lastFailureMillis.rawValue] = UInt64(max(0, nowMillis))
            counts[DeliverySlot.lastFailureKind.rawValue] = UInt64(failure.rawValue)
            counts[DeliverySlot.lastFailureStatus.rawValue] = UInt64(max(0, status))
            counts[DeliverySlot.failures(failure).rawValue] &+= 1
        }
    }

    /// Makes the counter file `name` hold its `slots` (zeros) if it is
    /// shorter; the caller holds the lock.
    private func reserveCounters(_ name: String, slots: Int) throws(SpoolError) {
        let fd = try spoolOwnership().open(name, OpenFlag.readWrite | OpenFlag.create)
        defer { Sys.close(fd) }
        let path = layout.directory + "/" + name
        let st = try Sys.fstat(fd, path)
        guard Int(st.st_size) < 8 * slots else { return }
        let bytes = [UInt8](repeating: 0, count: 8 * slots - Int(st.st_size))
        try Sys.pwrite(fd, bytes, at: Int(st.st_size), path)
    }

    /// The secret anonymous ids are derived with on `day` (days since the
    /// epoch, UTC), in `.daily-secret` (the day, then 32 random bytes),
    /// under the spool's lock: the first hit of a day makes it, writing
    /// over the day before's, which is then gone for good. A hit of the day
    /// before that gets the lock late (at midnight) takes the newer secret
    /// rather than turn the day back; a file cut short is made anew.
    public func dailySecret(day: Int64) throws(SpoolError) -> [UInt8] {
        var secret: [UInt8] = []
        try updateCounters(SpoolLayout.dailySecretName, slots: 5) { slots in
            let stored = Int64(bitPattern: slots[0])
            if day > stored || slots[1...].contains(0) {
                slots[0] = UInt64(bitPattern: day)
                for i in 1...4 { slots[i] = SystemRandom.next() }
            }
            secret = CounterFile.encode(Array(slots[1...]))
        }
        return secret
    }

    /// Reads, changes and writes back the counter file `name` of `slots`
    /// little-endian 64-bit numbers, under the lock; `stats` reads it
    /// (`SpoolStatus.counters`). Missing slots (a file from an older version)
    /// read as zero. The file is written in place, so one with a second name
    /// (a hard link to an event file) is refused (`SpoolOwnership.open`)
    /// rather than overwritten.
    func updateCounters(_ name: String, slots: Int, _ change: (inout [UInt64]) -> Void) throws(SpoolError) {
        try withLock { () throws(SpoolError) in
            let fd = try spoolOwnership().open(name, OpenFlag.readWrite | OpenFlag.create)
            defer { Sys.close(fd) }
            let path = layout.directory + "/" + name
            var bytes = [UInt8](repeating: 0, count: 8 * slots)
            let read = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(SpoolError) in try Sys.pread(fd, buffer, at: 0, path) }
            }
            let n = try read.get()
            var counts = CounterFile.decode(bytes[..<min(n, bytes.count)], slots: slots)
            change(&counts)
            try Sys.pwrite(fd, CounterFile.encode(counts), at: 0, path)
        }
    }

    /// Moves the events the data plane refused (`rejected/upstream.ndjson`)
    /// back into the spool as a sealed file, for the next drain to send: one
    /// rename, under the lock, so each goes back exactly once. Returns the
    /// sealed file's name and its number of events, or nil when there was
    /// nothing to requeue. A file larger than a sealed file may be is
    /// refused, with the way out, rather than set aside by the drain.
    public func requeueRefused() throws(SpoolError) -> (name: String, events: Int)? {
        try withLock { () throws(SpoolError) -> (name: String, events: Int)? in
            let owner = try spoolOwnership()
            // `rejected/` as this spool's own directory, never a link to
            // another's: a planted one would move its file into this spool.
            guard try owner.directory.statusOf(SpoolLayout.rejectedName) != nil else { return nil }
            let directory = try rejectedDirectory()
            let source = SpoolLayout.rejectedUpstreamName
            let fd: Int32
            do throws(SpoolError) {
                fd = try owner.open(source, OpenFlag.readOnly | OpenFlag.nonBlocking, in: directory)
            } catch where error.errno == Errno.noEntry {
                return nil
            }
            defer { Sys.close(fd) }
            let size = Int(try Sys.fstat(fd, directory.pathOf(source)).st_size)
            guard size <= settings.largestSealedBytes else {
                throw SpoolError(unsafe: directory.pathOf(source), because: "it holds \(size) bytes, more than a sealed file may here "
                    + "(\(settings.largestSealedBytes)); raise PIXELGATE_SEAL_BYTES for the requeue and the drain after it")
            }
            let content = try SpoolStatus.contents(fd, directory.pathOf(source), limit: settings.largestSealedBytes)
            guard !content.isEmpty else { return nil }
            let events = try upgradeLegacyRecords(content, source, in: directory)
            let name = SpoolLayout.sealedName(nanos: SystemClock.nowNanos(), pid: ProcessControl.id, random: generator.next())
            try directory.rename(source, to: name, in: owner.directory)
            if settings.fsync != .never {
                try owner.directory.sync()
                try directory.sync()
            }
            return (name, events)
        }
    }

    // MARK: - Under the lock

    /// Rewrites refused-event records of older versions in `name` (holding
    /// `content`) as today's, which the drain can send, replacing the file
    /// in one rename (so a crash leaves the old file or the new, both
    /// whole). Returns the number of records.
    private func upgradeLegacyRecords(_ content: [UInt8], _ name: String, in directory: PinnedDirectory) throws(SpoolError) -> Int {
        var records = 0
        var upgraded: [UInt8] = []
        upgraded.reserveCapacity(content.count)
        var changed = false
        for line in content.split(separator: 0x0A) {
            records += 1
            if let record = RejectedRecord.upgradedLegacy(line) {
                upgraded += record
                changed = true
            } else {
                upgraded += line
                upgraded.append(0x0A)
            }
        }
        guard changed else { return records }
        let temporary = name + ".upgrading"
        let fd = try createFresh(temporary, in: directory)
        defer { Sys.close(fd) }
        try Sys.writeAll(fd, upgraded, directory.pathOf(temporary))
        try Sys.fdatasync(fd, directory.pathOf(temporary))
        try directory.rename(temporary, to: name)
        return records
    }

    /// The spool directory's ownership, checked (and the directory made,
    /// if missing) on first use.
    func spoolOwnership() throws(SpoolError) -> SpoolOwnership {
        if let ownership { return ownership }
        let checked = try SpoolOwnership.prepare(layout.directory)
        ownership = checked
        return checked
    }

    /// `rejected/`, made, opened and checked on first use, and again when
    /// the entry `rejected` no longer is the directory held (an operator
    /// moved it away to keep it; someone swapped it): a long-lived worker
    /// follows the spool's own `rejected/`, checked anew, never a link.
    func rejectedDirectory() throws(SpoolError) -> PinnedDirectory {
        let owner = try spoolOwnership()
        if let rejected, let entry = try owner.directory.statusOf(SpoolLayout.rejectedName),
           let held = try? rejected.status(), entry.st_dev == held.st_dev && entry.st_ino == held.st_ino {
            return rejected
        }
        rejected = nil
        let opened = try owner.subdirectory(SpoolLayout.rejectedName)
        rejected = opened
        return opened
    }

    /// A new file `name` in `directory` (the spool's when nil) for this
    /// process alone to write (a temporary to be renamed): whatever stood
    /// there is removed first, and the file is created exclusively, never
    /// through a link.
    func createFresh(_ name: String, in directory: PinnedDirectory? = nil, append: Bool = false) throws(SpoolError) -> Int32 {
        let owner = try spoolOwnership()
        try (directory ?? owner.directory).remove(name)
        return try owner.open(name, OpenFlag.writeOnly | OpenFlag.create | OpenFlag.exclusive | (append ? OpenFlag.append : 0), in: directory)
    }

    /// Runs `body` holding the spool's lock, waited for at most
    /// `settings.lockWaitMillis`: a lock someone holds on and on (any
    /// member of a shared spool's group can take it) makes a hit fail, to
    /// be answered 503, not wait without end.
    private func withLock<T>(_ body: () throws(SpoolError) -> T) throws(SpoolError) -> T {
        let owner = try spoolOwnership()
        for attempt in 0..<3 {
            if lockFD < 0 {
                lockFD = try owner.open(SpoolLayout.lockName, OpenFlag.readWrite | OpenFlag.create)
                let st = try Sys.fstat(lockFD, layout.lockFile)
                lockIdentity = (UInt(st.st_dev), UInt(st.st_ino))
            }
            try Sys.lock(lockFD, layout.lockFile, waitingAtMost: settings.lockWaitMillis)
            if let st = try owner.directory.statusOf(SpoolLayout.lockName),
               UInt(st.st_dev) == lockIdentity.dev && UInt(st.st_ino) == lockIdentity.ino { break }
            // Replaced since opened: this lock excludes no one.
            try? Sys.flock(lockFD, FileLock.unlock, layout.lockFile)
            Sys.close(lockFD)
            lockFD = -1
            if attempt == 2 { throw SpoolError(unsafe: layout.lockFile, because: "it is replaced again and again; look at who else writes the spool") }
        }
        defer { try? Sys.flock(lockFD, FileLock.unlock, layout.lockFile) }
        return try body()
    }

    /// Our descriptor for the active file and its size, reopened when the
    /// file it refers to was sealed (renamed) or removed by another process.
    /// One stat by path both checks that and gives the size.
    private func openActive() throws(SpoolError) -> (Int32, Int) {
        let owner = try spoolOwnership()
        if activeFD >= 0 {
            if let st = try owner.directory.statusOf(SpoolLayout.activeName),
               UInt(st.st_dev) == activeIdentity.dev, UInt(st.st_ino) == activeIdentity.ino {
                return (activeFD, Int(st.st_size))
            }
            Sys.close(activeFD)
            activeFD = -1
        }
        sizeAfterOurAppend = -1
        var created = true
        var fd: Int32
        do throws(SpoolError) {
            fd = try owner.open(SpoolLayout.activeName, OpenFlag.readWrite | OpenFlag.append | OpenFlag.create | OpenFlag.exclusive)
        } catch where error.errno == Errno.exists {
            created = false
            fd = try owner.open(SpoolLayout.activeName, OpenFlag.readWrite | OpenFlag.append)
        }
        if created {
            // Stamp the birth of this active file for age-based sealing.
            try Sys.touch(lockFD, layout.lockFile)
            // The count of hits a full disk refuses needs its file made
            // while there is room: counting rewrites it in place.
            try? reserveCounters(SpoolLayout.unstoredCountsName, slots: UnstoredHit.allCases.count)
            if settings.fsync != .never { try owner.directory.sync() }
        }
        let st = try Sys.fstat(fd, layout.activeFile)
        activeFD = fd
        activeIdentity = (UInt(st.st_dev), UInt(st.st_ino))
        activeBornMillis = SystemClock.millis(try Sys.fstat(lockFD, layout.lockFile).st_mtim)
        return (fd, Int(st.st_size))
    }

    private func activeAgeMillis() throws(SpoolError) -> Int64 {
        let st = try Sys.fstat(lockFD, layout.lockFile)
        return SystemClock.nowMillis() - SystemClock.millis(st.st_mtim)
    }

    /// Renames the active file to a sealed name; callers deal with their
    /// descriptor for it (`append` closes it only after syncing).
    private func sealActive() throws(SpoolError) -> String {
        let name = SpoolLayout.sealedName(nanos: SystemClock.nowNanos(), pid: ProcessControl.id, random: generator.next())
        let directory = try spoolOwnership().directory
        try directory.rename(SpoolLayout.activeName, to: name)
        if settings.fsync != .never { try directory.sync() }
        return name
    }

    private func syncIfDue(_ fd: Int32) throws(SpoolError) {
        guard case .interval(let interval) = settings.fsync else { return }
        let stampFD = try spoolOwnership().open(SpoolLayout.syncStampName, OpenFlag.readWrite | OpenFlag.create)
        defer { Sys.close(stampFD) }
        let st = try Sys.fstat(stampFD, layout.syncStampFile)
        if SystemClock.nowMillis() - SystemClock.millis(st.st_mtim) >= interval || st.st_size == 0 {
            try Sys.fdatasync(fd, layout.activeFile)
            if st.st_size == 0 { _ = try Sys.writeOnce(stampFD, [0x0A], layout.syncStampFile) }
            try Sys.touch(stampFD, layout.syncStampFile)
        }
    }
}

/// The length of `fd`'s content up to and including its last newline: what
/// remains after cutting a torn last line. Reads backwards in chunks.
func lastCompleteLineEnd(_ fd: Int32, size: Int, path: String) throws(SpoolError) -> Int {
    var last: UInt8 = 0
    let n = try withUnsafeMutableBytes(of: &last) { (buf) throws(SpoolError) -> Int in
        try Sys.pread(fd, buf, at: size - 1, path)
    }
    if n == 1 && last == 0x0A { return size }
    let chunk = 65_536
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 1)
    defer { buffer.deallocate() }
    var end = size
    while end > 0 {
        let start = max(0, end - chunk)
        let got = try Sys.pread(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(end - start)]), at: start, path)
        if let i = buffer[0..<got].lastIndex(of: 0x0A) { return start + i + 1 }
        end = start
    }
    return 0
}
