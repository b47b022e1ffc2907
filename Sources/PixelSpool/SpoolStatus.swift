import PixelSystem
import PixelCore

/// What a spool directory holds, for `pixelgate check` (and later `stats`).
public struct SpoolStatus: Sendable, Equatable {
    public var activeBytes = 0
    public var sealedFiles = 0
    public var sealedBytes = 0
    public var rejectedBytes = 0

    /// Reads the directory; a missing one is empty.
    public static func inspect(_ layout: SpoolLayout) throws(SpoolError) -> SpoolStatus {
        var status = SpoolStatus()
        guard try Sys.statIfExists(layout.directory) != nil else { return status }
        for name in try Sys.listDirectory(layout.directory) where name.hasSuffix(SpoolLayout.suffix) {
            guard let st = try Sys.statIfExists(layout.directory + "/" + name) else { continue }
            if name == SpoolLayout.activeName {
                status.activeBytes = Int(st.st_size)
            } else if SpoolLayout.isSealed(name) {
                status.sealedFiles += 1
                status.sealedBytes += Int(st.st_size)
            }
        }
        if try Sys.statIfExists(layout.rejectedDirectory) != nil {
            for name in try Sys.listDirectory(layout.rejectedDirectory) where name.hasSuffix(SpoolLayout.suffix) {
                if let st = try Sys.statIfExists(layout.rejectedDirectory + "/" + name) { status.rejectedBytes += Int(st.st_size) }
            }
        }
        return status
    }

    /// What is waiting for the drain and what was refused, for `pixelgate stats`.
    public struct Backlog: Sendable, Equatable {
        public var files = 0
        public var events = 0
        public var bytes = 0
        /// Age of the oldest waiting event, from its `receivedAt`.
        public var oldestAgeSeconds: Int?
        public var rejectedRecords = 0
        public var rejectedBytes = 0
        /// Hits answered but stored nowhere by choice, by reason, in
        /// `DroppedHit.allCases` order (`SpoolWriter.countDropped`).
        public var dropped = [Int](repeating: 0, count: DroppedHit.allCases.count)
        /// Refused hits by reason, in `PixelError.refusalCodes` order
        /// (`SpoolWriter.countRefused`).
        public var refused = [Int](repeating: 0, count: PixelError.refusalCodes.count)
        /// Accepted hits answered 503 or 500, in `UnstoredHit.allCases` order.
        public var unstored = [Int](repeating: 0, count: UnstoredHit.allCases.count)
        /// The `.delivery` file's slots (`DeliverySlot`).
        public var delivery = [UInt64](repeating: 0, count: DeliverySlot.allCases.count)

        public subscript(_ slot: DeliverySlot) -> UInt64 { delivery[slot.rawValue] }
    }

    /// The `slots` numbers of a counter file (`CounterFile`), zeros where
    /// it has none; never read through a link, from anything but a regular
    /// file (a FIFO would block), or past its slots.
    static func counters(_ path: String, slots: Int) -> [UInt64] {
        guard let fd = try? Sys.open(path, OpenFlag.readOnly | OpenFlag.nonBlocking) else { return [UInt64](repeating: 0, count: slots) }
        defer { Sys.close(fd) }
        guard let st = try? Sys.fstat(fd, path), st.st_mode & ModeBits.typeMask == ModeBits.regular else {
            return [UInt64](repeating: 0, count: slots)
        }
        var bytes = [UInt8](repeating: 0, count: 8 * slots)
        let read = bytes.withUnsafeMutableBytes { buffer in (try? Sys.pread(fd, buffer, at: 0, path)) ?? 0 }
        return CounterFile.decode(bytes[..<read], slots: slots)
    }

    /// The `.dropped` counts by `DroppedHit`.
    static func dropCounts(_ layout: SpoolLayout) -> [Int] {
        counts(layout.dropCountsFile, slots: DroppedHit.allCases.count)
    }

    static func counts(_ path: String, slots: Int) -> [Int] {
        counters(path, slots: slots).map { Int(truncatingIfNeeded: min($0, UInt64(Int.max))) }
    }

    /// Counts the events not yet delivered: lines of sealed files past the
    /// drain's saved progress, and of the active file.
    public static func backlog(_ layout: SpoolLayout, nowMillis: Int64) throws(SpoolError) -> Backlog {
        var backlog = Backlog()
        guard try Sys.statIfExists(layout.directory) != nil else { return backlog }
        let names = try Sys.listDirectory(layout.directory)
        var oldest: Int64?
        for name in names.filter({ SpoolLayout.isSealed($0) || $0 == SpoolLayout.activeName }).sorted() {
            guard let content = try? readFile(layout.directory + "/" + name) else { continue }
            let saved = try? readFile(layout.directory + "/" + SpoolLayout.progressName(of: name))
            let progress = SpoolProgress.resolve(saved, content: content)
            let pending = content[progress.offset...]
            var lines = pending.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            var bytes = pending.count
            // Lines a pass already delivered out of file order (one
            // request per address) are not pending.
            var first: ArraySlice<UInt8>?
            var start = pending.startIndex
            while start < pending.endIndex {
                let end = pending[start...].firstIndex(of: 0x0A) ?? pending.endIndex
                if progress.done.contains(start) {
                    lines -= end < pending.endIndex ? 1 : 0
                    bytes -= min(end + 1, pending.endIndex) - start
                } else if first == nil {
                    first = pending[start..<end]
                    if progress.done.isEmpty { break }
                }
                start = end + 1
            }
            guard lines > 0 else { continue }
            backlog.files += 1
            backlog.events += lines
            backlog.bytes += bytes
            if let firstLine = first, let at = receivedAt(firstLine) { oldest = min(oldest ?? at, at) }
        }
        backlog.oldestAgeSeconds = oldest.map { Int(max(0, nowMillis - $0) / 1000) }
        backlog.dropped = dropCounts(layout)
        backlog.unstored = counts(layout.unstoredCountsFile, slots: UnstoredHit.allCases.count)
        backlog.refused = counts(layout.refusedCountsFile, slots: PixelError.refusalCodes.count)
        backlog.delivery = counters(layout.deliveryFile, slots: DeliverySlot.allCases.count)
        if try Sys.statIfExists(layout.rejectedDirectory) != nil {
            for name in try Sys.listDirectory(layout.rejectedDirectory) where name.hasSuffix(SpoolLayout.suffix) {
                guard let content = try? readFile(layout.rejectedDirectory + "/" + name) else { continue }
                backlog.rejectedRecords += content.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                backlog.rejectedBytes += content.count
            }
        }
        return backlog
    }

    static func receivedAt(_ line: ArraySlice<UInt8>) -> Int64? {
        let key = Array(#""receivedAt":""#.utf8)
        guard let start = line.firstRange(of: key)?.upperBound, line.count >= start - line.startIndex + 24 else { return nil }
        return ISO8601.parse(Substring(String(decoding: line[start..<(start + 24)], as: UTF8.self)))
    }

    public static func readFile(_ path: String) throws(SpoolError) -> [UInt8] {
        // Without blocking: a FIFO planted under a spool file's name must
        // not stall `stats` or the drain; only a regular file is read.
        let fd = try Sys.open(path, OpenFlag.readOnly | OpenFlag.nonBlocking)
        defer { Sys.close(fd) }
        let st = try Sys.fstat(fd, path)
        guard st.st_mode & ModeBits.typeMask == ModeBits.regular else { throw SpoolError("read (not a regular file)", path, errno: Errno.invalid) }
        let size = Int(st.st_size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
        defer { buffer.deallocate() }
        var got = 0
        while got < size {
            let n = try Sys.pread(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[got..<size]), at: got, path)
            if n == 0 { break }
            got += n
        }
        return Array(buffer[0..<got])
    }

    /// Checks that this process can create the spool and append to it, and
    /// that the spool is safe (SPEC §7a): makes the directory if missing,
    /// takes the lock, and creates and removes a probe file. Touches no
    /// event file. Returns the directory's ownership.
    ///
    /// - Parameter lockWaitMillis: how long the lock may be waited for
    ///   before the spool counts as stuck (the health answer's limit); nil
    ///   waits as a hit does.
    @discardableResult
    public static func probeWritable(_ layout: SpoolLayout, lockWaitMillis: Int? = nil) throws(SpoolError) -> SpoolOwnership {
        let owner = try SpoolOwnership.prepare(layout.directory)
        let lock = try owner.open(layout.lockFile, OpenFlag.readWrite | OpenFlag.create)
        defer { Sys.close(lock) }
        if let lockWaitMillis {
            var waited = 0
            while try !Sys.tryLock(lock, layout.lockFile) {
                guard waited < lockWaitMillis else {
                    throw SpoolError("lock (held by another process for over \(lockWaitMillis) ms)", layout.lockFile, errno: Errno.wouldBlock)
                }
                SystemClock.sleep(millis: 10)
                waited += 10
            }
        } else {
            try Sys.flock(lock, FileLock.exclusive, layout.lockFile)
        }
        try Sys.flock(lock, FileLock.unlock, layout.lockFile)
        // Unique to this call: threads of one worker share the pid, and a
        // probe left by a killed process must not fail the next.
        let probe = layout.directory + "/.probe-\(ProcessControl.id)-\(String(SystemRandom.next(), radix: 16))"
        let fd = try owner.open(probe, OpenFlag.writeOnly | OpenFlag.create | OpenFlag.exclusive)
        Sys.close(fd)
        try Sys.unlink(probe)
        if try Sys.lstatIfExists(layout.activeFile) != nil {
            // Another user may own the active file: can we append to it?
            Sys.close(try Sys.open(layout.activeFile, OpenFlag.readWrite | OpenFlag.append))
        }
        return owner
    }
}
