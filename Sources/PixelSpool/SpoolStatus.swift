import PixelSystem
import PixelCore

/// What a spool directory holds, for `pixelgate check` (and later `stats`).
public struct SpoolStatus: Sendable, Equatable {
    public var activeBytes = 0
    public var sealedFiles = 0
    public var sealedBytes = 0
    public var rejectedBytes = 0

    /// The spool directory checked and opened (never through a link), or
    /// nil when there is none yet; and its `rejected/`, or nil. What is
    /// read through them is checked as the drain checks it: a hard link to
    /// a file elsewhere is not read, even by root's `stats`.
    static func places(_ layout: SpoolLayout) throws(SpoolError) -> (SpoolPlace, SpoolPlace?)? {
        let owner: SpoolOwnership
        do throws(SpoolError) {
            owner = try SpoolOwnership.verify(layout.directory)
        } catch where error.errno == Errno.noEntry && error.unsafeBecause == nil {
            return nil
        }
        let rejected: SpoolPlace?
        do throws(SpoolError) {
            rejected = SpoolPlace(owner: owner, directory: try owner.subdirectory(SpoolLayout.rejectedName, making: false))
        } catch where error.errno == Errno.noEntry {
            rejected = nil
        }
        return (SpoolPlace(owner: owner, directory: owner.directory), rejected)
    }

    /// Reads the directory; a missing one is empty.
    public static func inspect(_ layout: SpoolLayout) throws(SpoolError) -> SpoolStatus {
        var status = SpoolStatus()
        guard let (spool, rejected) = try places(layout) else { return status }
        for name in try spool.directory.names() where name.hasSuffix(SpoolLayout.suffix) {
            guard let st = try spool.directory.statusOf(name) else { continue }
            if name == SpoolLayout.activeName {
                status.activeBytes = Int(st.st_size)
            } else if SpoolLayout.isSealed(name) {
                status.sealedFiles += 1
                status.sealedBytes += Int(st.st_size)
            }
        }
        if let rejected {
            for name in try rejected.directory.names() where name.hasSuffix(SpoolLayout.suffix) {
                if let st = try rejected.directory.statusOf(name) { status.rejectedBytes += Int(st.st_size) }
            }
        }
        return status
    }

    /// What is waiting for the drain and what was refused, for `pixelgate stats`.
    public struct Backlog: Sendable, Equatable {
        public var files = 0
        public var events = 0
        public var bytes = 0
        /// The waiting events by route (`SpoolLine.route`).
        public var routes = RouteCounts()
        /// Events the data plane refused, kept in
        /// `rejected/upstream.ndjson`, by route (a kept click counts as
        /// `track`: its record keeps the event alone).
        public var kept = RouteCounts()
        /// Age of the oldest waiting event, from its `receivedAt`.
        public var oldestAgeSeconds: Int?
        /// When the oldest waiting event was received (Unix milliseconds).
        public var oldestMillis: Int64?
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
    static func counters(_ name: String, in spool: SpoolPlace, slots: Int) -> [UInt64] {
        let path = spool.pathOf(name)
        guard let fd = try? spool.openForReading(name) else { return [UInt64](repeating: 0, count: slots) }
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
        guard let (spool, _) = try? places(layout) else { return [Int](repeating: 0, count: DroppedHit.allCases.count) }
        return counts(SpoolLayout.dropCountsName, in: spool, slots: DroppedHit.allCases.count)
    }

    static func counts(_ name: String, in spool: SpoolPlace, slots: Int) -> [Int] {
        counters(name, in: spool, slots: slots).map { Int(truncatingIfNeeded: min($0, UInt64(Int.max))) }
    }

    /// Counts the events not yet delivered: lines of sealed files past the
    /// drain's saved progress, and of the active file.
    public static func backlog(_ layout: SpoolLayout, nowMillis: Int64) throws(SpoolError) -> Backlog {
        var backlog = Backlog()
        guard let (spool, rejected) = try places(layout) else { return backlog }
        let names = try spool.directory.names()
        var oldest: Int64?
        for name in names.filter({ SpoolLayout.isSealed($0) || $0 == SpoolLayout.activeName }).sorted() {
            // A file larger than a seal makes is not read (the drain sets it aside).
            guard let pending = try? pending(name, in: spool), pending.lines > 0 else { continue }
            backlog.files += 1
            backlog.events += pending.lines
            backlog.bytes += pending.bytes
            backlog.routes += pending.routes
            if let at = pending.oldest { oldest = min(oldest ?? at, at) }
        }
        backlog.oldestAgeSeconds = oldest.map { Int(max(0, nowMillis - $0) / 1000) }
        backlog.oldestMillis = oldest
        backlog.dropped = counts(SpoolLayout.dropCountsName, in: spool, slots: DroppedHit.allCases.count)
        backlog.unstored = counts(SpoolLayout.unstoredCountsName, in: spool, slots: UnstoredHit.allCases.count)
        backlog.refused = counts(SpoolLayout.refusedCountsName, in: spool, slots: PixelError.refusalCodes.count)
        backlog.delivery = counters(SpoolLayout.deliveryName, in: spool, slots: DeliverySlot.allCases.count)
        if let rejected {
            for name in try rejected.directory.names() where name.hasSuffix(SpoolLayout.suffix) {
                // Counted a megabyte at a time: a file of any size costs no
                // more memory; one larger than any spool file is not read.
                guard let (records, bytes) = try? countLines(name, in: rejected) else { continue }
                backlog.rejectedRecords += records
                backlog.rejectedBytes += bytes
                if name == SpoolLayout.rejectedUpstreamName, let kept = try? countRoutes(name, in: rejected) {
                    backlog.kept = kept
                }
            }
        }
        return backlog
    }

    /// The lines and bytes of the spool file `name` that the drain has not
    /// delivered (past its saved offset, less the lines it journaled), and
    /// the `receivedAt` of the first of them: read a megabyte at a time.
    static func pending(_ name: String, in spool: SpoolPlace) throws(SpoolError) -> (lines: Int, bytes: Int, oldest: Int64?, routes: RouteCounts) {
        let file = try openToCount(name, in: spool)
        defer { Sys.close(file.fd) }
        let size = file.size
        let saved = try? readFile(SpoolLayout.progressName(of: name), in: spool, limit: largestSealedBytes)
        let progress = SpoolProgress.resolve(saved, size: size) { file.byte(at: $0) }
        var lines = 0, bytes = 0
        var routes = RouteCounts()
        var first: Range<Int>?
        let torn = try eachLine(of: file, from: progress.offset) { range, line in
            // Lines a pass already delivered out of file order (one request
            // per address) are not pending.
            guard !progress.done.contains(range.lowerBound) else { return }
            lines += 1
            bytes += range.count + 1
            if first == nil { first = range }
            routes.add(line: line)
        }
        if let torn, !progress.done.contains(torn.lowerBound) {
            bytes += torn.count  // a torn last line: bytes, not an event
            if first == nil { first = torn }
        }
        var oldest: Int64?
        if let first {
            oldest = receivedAt(try file.bytes(in: first.lowerBound..<min(first.upperBound, first.lowerBound + 65_536))[...])
        }
        return (lines, bytes, oldest, routes)
    }

    static func receivedAt(_ line: ArraySlice<UInt8>) -> Int64? {
        let key = Array(#""receivedAt":""#.utf8)
        guard let start = line.firstOccurrence(of: key)?.upperBound, line.count >= start - line.startIndex + 24 else { return nil }
        return ISO8601.parse(Substring(String(decoding: line[start..<(start + 24)], as: UTF8.self)))
    }

    /// The most a sealed file can hold: a file a little over the seal size
    /// at its largest setting (the append that crosses it may be a whole
    /// event). A file larger than this was not made by a seal; it is never
    /// read whole (`stats` skips it, the drain sets it aside).
    public static let largestSealedBytes = SpoolSettings.sealBytesBounds.upperBound + 8 * 1024 * 1024

    /// The file `name` in `directory` read whole, opened without blocking
    /// (a FIFO planted under a spool file's name must not stall `stats` or
    /// the drain) and never through a link; only a regular file of at most
    /// `limit` bytes is read (`EFBIG` otherwise).
    static func readFile(_ name: String, in directory: SpoolPlace, limit: Int) throws(SpoolError) -> [UInt8] {
        let fd = try directory.openForReading(name)
        defer { Sys.close(fd) }
        return try contents(fd, directory.pathOf(name), limit: limit)
    }

    /// The content of the open file `fd` (called `path` in messages): a
    /// regular file of at most `limit` bytes, read whole.
    public static func contents(_ fd: Int32, _ path: String, limit: Int = largestSealedBytes) throws(SpoolError) -> [UInt8] {
        let st = try Sys.fstat(fd, path)
        guard st.st_mode & ModeBits.typeMask == ModeBits.regular else { throw SpoolError("read (not a regular file)", path, errno: Errno.invalid) }
        let size = Int(st.st_size)
        guard size <= limit else { throw SpoolError("read (\(size) bytes, more than the \(limit) a spool file may hold)", path, errno: Errno.fileTooBig) }
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

    /// Calls `body` with each whole line of the file `name` in `directory`
    /// (without its newline), read a megabyte at a time; a line longer than
    /// `longestLine` is passed over, so memory stays bounded whatever the
    /// file holds.
    static func forEachLine(_ name: String, in directory: SpoolPlace, longestLine: Int = 8 << 20,
                            _ body: (ArraySlice<UInt8>) -> Void) throws(SpoolError) {
        let fd = try directory.openForReading(name)
        defer { Sys.close(fd) }
        let path = directory.pathOf(name)
        let st = try Sys.fstat(fd, path)
        guard st.st_mode & ModeBits.typeMask == ModeBits.regular else { throw SpoolError("read (not a regular file)", path, errno: Errno.invalid) }
        let file = SpoolFile(fd: fd, path: path, size: Int(st.st_size))
        var carried: [UInt8] = []
        var skipping = false
        var position = 0
        while position < file.size {
            let piece = try file.bytes(in: position..<(position + (1 << 20)))
            if piece.isEmpty { break }
            position += piece.count
            var from = piece.startIndex
            while let newline = piece[from...].firstIndex(of: 0x0A) {
                if !skipping {
                    if carried.isEmpty { body(piece[from..<newline]) } else { carried += piece[from..<newline]; body(carried[...]) }
                }
                carried.removeAll(keepingCapacity: true)
                skipping = false
                from = newline + 1
            }
            if !skipping {
                carried += piece[from...]
                if carried.count > longestLine { skipping = true; carried.removeAll() }
            }
        }
    }

    /// The lines (newlines) and bytes of the file `name` in `directory`,
    /// read a megabyte at a time.
    static func countLines(_ name: String, in directory: SpoolPlace) throws(SpoolError) -> (lines: Int, bytes: Int) {
        let file = try openToCount(name, in: directory)
        defer { Sys.close(file.fd) }
        let fd = file.fd, path = file.path
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 1)
        defer { buffer.deallocate() }
        var lines = 0, bytes = 0
        while true {
            let n = try Sys.pread(fd, buffer, at: bytes, path)
            if n == 0 { break }
            for byte in buffer[0..<n] where byte == 0x0A { lines += 1 }
            bytes += n
        }
        return (lines, bytes)
    }

    /// The records of the file `name` in `directory` by route.
    static func countRoutes(_ name: String, in directory: SpoolPlace) throws(SpoolError) -> RouteCounts {
        var routes = RouteCounts()
        try forEachLine(name, in: directory) { routes.add(line: $0) }
        return routes
    }

    /// The file `name` opened to be counted (the caller closes it): never
    /// through a link, without blocking, and only a regular file no larger
    /// than a sealed file may be (`EFBIG` otherwise), so that counting costs
    /// no more than reading a spool file does.
    static func openToCount(_ name: String, in directory: SpoolPlace) throws(SpoolError) -> SpoolFile {
        let fd = try directory.openForReading(name)
        let path = directory.pathOf(name)
        do throws(SpoolError) {
            let st = try Sys.fstat(fd, path)
            guard st.st_mode & ModeBits.typeMask == ModeBits.regular else { throw SpoolError("read (not a regular file)", path, errno: Errno.invalid) }
            guard Int(st.st_size) <= largestSealedBytes else { throw SpoolError("read (\(st.st_size) bytes)", path, errno: Errno.fileTooBig) }
            return SpoolFile(fd: fd, path: path, size: Int(st.st_size))
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    /// Calls `body` with each whole line of `file` from `start` (its range
    /// without the newline, and its bytes), reading a megabyte at a time; a
    /// line that crosses a megabyte is read again whole. Returns the bytes
    /// after the last newline (a torn line), if any.
    static func eachLine(of file: SpoolFile, from start: Int,
                         _ body: (Range<Int>, ArraySlice<UInt8>) -> Void) throws(SpoolError) -> Range<Int>? {
        var lineStart = start
        var position = start
        while position < file.size {
            let piece = try file.bytes(in: position..<(position + (1 << 20)))
            if piece.isEmpty { break }
            var from = 0
            while let newline = piece.withUnsafeBufferPointer({ CStrings.firstIndex(of: 0x0A, in: $0, from: from) }) {
                let end = position + newline
                // A line begun in an earlier piece is read again whole.
                body(lineStart..<end, lineStart >= position ? piece[(lineStart - position)..<newline] : try file.bytes(in: lineStart..<end)[...])
                lineStart = end + 1
                from = newline + 1
            }
            position += piece.count
        }
        return lineStart < position ? lineStart..<position : nil
    }

    /// Why a hit's event could not be stored in the spool now, by this
    /// process: nil when it could (the health route's and `stats`' test).
    /// The spool checks out and its lock can be taken within 2 s
    /// (`probeWritable`), and its file system has room for the largest event.
    public static func unavailability(_ layout: SpoolLayout, minimumFreeBytes: Int) -> String? {
        let owner: SpoolOwnership
        do {
            owner = try probeWritable(layout, lockWaitMillis: 2000)
        } catch {
            return "\(error)"
        }
        guard let free = try? owner.directory.freeSpace() else { return nil }
        if free.bytes < UInt64(minimumFreeBytes) {
            return "the spool's file system has \(free.bytes) bytes free, under the \(minimumFreeBytes) of the largest event"
        }
        if free.inodes == 0 { return "the spool's file system has no free inodes" }
        return nil
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
        let lock = try owner.open(SpoolLayout.lockName, OpenFlag.readWrite | OpenFlag.create)
        defer { Sys.close(lock) }
        try Sys.lock(lock, layout.lockFile, waitingAtMost: Int64(lockWaitMillis ?? 10_000))
        try Sys.flock(lock, FileLock.unlock, layout.lockFile)
        // Unique to this call: threads of one worker share the pid, and a
        // probe left by a killed process must not fail the next.
        let probe = ".probe-\(ProcessControl.id)-\(String(SystemRandom.next(), radix: 16))"
        let fd = try owner.open(probe, OpenFlag.writeOnly | OpenFlag.create | OpenFlag.exclusive)
        Sys.close(fd)
        try owner.directory.remove(probe)
        if try owner.directory.statusOf(SpoolLayout.activeName) != nil {
            // Another user may own the active file: can we append to it?
            Sys.close(try owner.open(SpoolLayout.activeName, OpenFlag.readWrite | OpenFlag.append))
        }
        return owner
    }
}
