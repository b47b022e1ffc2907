import PixelSystem
import PixelCore

/// How the drain batches and retries.
public struct DrainSettings {
    /// Largest batch body. The data plane refuses bodies over 4,000 KB; 512 KiB
    /// keeps a batch well under that, and a retry cheap.
    public var maxBatchBytes = 512 * 1024
    /// First retry delay; doubles per attempt up to `retryCapMillis`, with jitter.
    public var retryBaseMillis = 500
    public var retryCapMillis = 30_000
    /// `--once` gives up (exit 75, nothing lost) when the data plane has
    /// been unavailable until this much time has passed.
    public var giveUpAfterMillis: Int64 = 300_000
    /// Asked between batches and during back-off: true ends the pass early
    /// (SIGTERM in `drain --follow`), with progress saved.
    public var shouldStop: @Sendable () -> Bool = { false }
    /// Called after every batch with the pass so far (progress on a terminal).
    public var onBatch: (DrainReport) -> Void = { _ in }

    public init() {}
}

/// Why a drain pass ended before the spool was empty. Each has its own
/// exit code, so cron wrappers and systemd can tell them apart.
public enum DrainStop: Sendable, Equatable {
    /// The data plane stayed unavailable (network, 5xx, 429) past the
    /// deadline: run again later.
    case unavailable(String)
    /// The URL or credentials are wrong (a redirect, 404, 401/403 for a
    /// listed key): nothing was rejected; the operator must fix the setting.
    case misconfigured(String)
    /// The spool could not be read or written here (permissions, a full
    /// disk, a record that `rejected/` could not keep): the file stays.
    case localFailure(String)
    /// Asked to stop (SIGTERM in `drain --follow`), with progress saved.
    case stopped

    public var description: String {
        switch self {
        case .unavailable(let why): return "data plane unavailable: \(why)"
        case .misconfigured(let why): return "wrong configuration: \(why)"
        case .localFailure(let why): return "spool failure: \(why)"
        case .stopped: return "stopped"
        }
    }
}

/// What one drain pass did.
public struct DrainReport: Sendable, Equatable {
    public var files = 0
    public var batches = 0
    public var delivered = 0
    public var deliveredBytes = 0
    /// Events the data plane refused, kept in `rejected/upstream.ndjson`.
    public var rejected = 0
    /// Lines that were not records, kept in `rejected/unreadable.ndjson`.
    public var setAside = 0
    /// Set when the pass stopped before the spool was empty; the files
    /// stay, with their progress.
    public var stop: DrainStop?
    /// Another drain was at work on this spool: this pass did nothing.
    public var busy = false
}

/// Ships sealed spool files to the data plane, file by file, in batches of
/// consecutive lines with the same write key.
///
/// A file is taken under an exclusive non-blocking `flock`, so two drains
/// never send the same file; a crashed drain's lock goes with it. Progress
/// (the offset delivered up to) is saved after every batch beside the file,
/// so a restarted drain resends at most the batch that was in flight. A
/// batch the data plane refuses (400, 413) is halved until only the events
/// it refuses are left; those are kept in `rejected/`. A file is removed
/// only when every line in it is delivered or kept; a wrong URL or key
/// stops the pass with everything in place.
public final class SpoolDrain {
    let writer: SpoolWriter
    let client: DataPlane
    let settings: DrainSettings
    let log: (LogLevel, String) -> Void
    private var generator = SystemRandomNumberGenerator()
    /// Where the refused events already kept in `rejected/` came from
    /// (`file:offset`), read once a pass when the first refusal comes: a
    /// pass that meets a refusal again after a crash keeps it only once.
    private var keptOrigins: Set<String>?
    var layout: SpoolLayout { writer.layout }

    public init(writer: SpoolWriter, client: DataPlane, settings: DrainSettings, log: @escaping (LogLevel, String) -> Void) {
        self.writer = writer
        self.client = client
        self.settings = settings
        self.log = log
    }

    /// Seals the active file (when `forceSeal`, else only once it is due by
    /// age) and delivers every sealed file there is.
    public func runOnce(forceSeal: Bool = true) -> DrainReport {
        var report = DrainReport()
        keptOrigins = nil
        let deadline = SystemClock.nowMillis() + settings.giveUpAfterMillis
        do throws(SpoolError) {
            // One drain at a time on a spool (cron runs that overlap, a
            // drain by hand beside the timer's): one finding another at
            // work ends at once. Files are also taken one by one under
            // their own locks, so even drains that bypass this one never
            // send a file twice.
            let runLock = layout.directory + "/" + SpoolLayout.drainLockName
            let runLockFD = try writer.spoolOwnership().open(runLock, OpenFlag.readWrite | OpenFlag.create)
            defer { Sys.close(runLockFD) }
            guard try Sys.tryLock(runLockFD, runLock) else {
                report.busy = true
                return report
            }
            try writer.sealIfDue(force: forceSeal)
            let entries = try Sys.listDirectory(layout.directory)
            let names = entries.filter(SpoolLayout.isSealed).sorted()
            // Progress of a file already removed (a drain killed between the
            // two unlinks) is no longer anyone's.
            for entry in entries where entry.hasSuffix(".progress") && entry.hasPrefix(".") {
                let sealed = String(entry.dropFirst().dropLast(".progress".count))
                if !names.contains(sealed) { try? Sys.unlink(layout.directory + "/" + entry) }
            }
            for name in names {
                try drainFile(name, deadline: deadline, report: &report)
                if report.stop != nil { break }
                if settings.shouldStop() { report.stop = .stopped; break }
            }
        } catch {
            // An unsafe spool is the operator's to fix, like a wrong URL.
            report.stop = error.unsafeBecause == nil ? .localFailure("\(error)") : .misconfigured("\(error)")
        }
        return report
    }

    func drainFile(_ name: String, deadline: Int64, report: inout DrainReport) throws(SpoolError) {
        let path = layout.directory + "/" + name
        let progressPath = layout.directory + "/" + SpoolLayout.progressName(of: name)
        let fd: Int32
        do throws(SpoolError) {
            fd = try Sys.open(path, OpenFlag.readOnly | OpenFlag.nonBlocking)
        } catch where error.errno == Errno.noEntry {
            return  // another drain finished it
        } catch where error.errno == Errno.loop {
            log(.warn, "\(name) is a symbolic link, not a spool file: skipped (remove it)")
            return
        }
        defer { Sys.close(fd) }
        guard try Sys.fstat(fd, path).st_mode & ModeBits.typeMask == ModeBits.regular else {
            log(.warn, "\(name) is not a regular file: skipped (remove it)")
            return
        }
        guard try Sys.tryLock(fd, path) else { return }  // another drain has it
        // It may have been finished and removed between our open and lock.
        guard let current = try Sys.statIfExists(path), current.st_ino == (try Sys.fstat(fd, path)).st_ino else { return }
        report.files += 1
        let content = try SpoolStatus.readFile(path)
        let saved: [UInt8]?
        do throws(SpoolError) {
            saved = try SpoolStatus.readFile(progressPath)
        } catch where error.errno == Errno.noEntry {
            saved = nil
        }
        let progress = SpoolProgress.resolve(saved, content: content)
        if let problem = progress.problem { log(.warn, "\(name): \(problem)") }
        let resumeAt = progress.offset

        // While one batch is on the wire, the next is read, checked and
        // compressed on another thread: the drain's own work overlaps the
        // data plane's.
        let planner = BatchPlanner(content: content, maxBatchBytes: settings.maxBatchBytes, client: client)
        var next: BackgroundTask<PlannedBatch>? = resumeAt < content.count ? BackgroundTask { planner.plan(from: resumeAt) } : nil
        // However the loop ends, the planning thread is joined.
        defer { _ = next?.wait() }
        var offset = resumeAt
        while let pending = next {
            let batch = pending.wait()
            next = nil
            for (range, reason) in batch.setAside {
                try setAside(content[range], reason: reason, file: name, report: &report)
            }
            if !batch.setAside.isEmpty {
                offset = batch.start
                try saveProgress(offset, progressPath)
            }
            guard let writeKey = batch.writeKey else { continue }  // only set-asides, up to the end
            let following = batch.end
            if following < content.count { next = BackgroundTask { planner.plan(from: following) } }
            let stop = try deliverRun(batch.lines[...], writeKey: writeKey, prepared: (batch.body, batch.bodyBytes), file: name,
                                      content: content, deadline: deadline, progressPath: progressPath, report: &report)
            if let stop {
                report.stop = stop
                return
            }
            offset = batch.end
            settings.onBatch(report)
            if settings.shouldStop() && offset < content.count {
                report.stop = .stopped
                return
            }
        }
        try Sys.unlink(path)
        try Sys.unlink(progressPath)
    }

    /// Delivers consecutive `lines` of one write key, halving the run when
    /// the data plane refuses it, until each event is delivered or (alone)
    /// refused and kept. Progress is saved after each part. Returns why the
    /// pass must stop, or nil when the whole run is done.
    func deliverRun(_ lines: ArraySlice<Range<Int>>, writeKey: String, prepared: (PreparedBody, Int)?,
                    file: String, content: [UInt8], deadline: Int64, progressPath: String,
                    report: inout DrainReport) throws(SpoolError) -> DrainStop? {
        let (body, bodyBytes): (PreparedBody, Int)
        if let prepared {
            (body, bodyBytes) = prepared
        } else {
            let events = lines.map { range -> ArraySlice<UInt8> in content[SpoolLine.parse(content[range])!.eventRange] }
            let plain = DataPlaneClient.batchBody(events)
            (body, bodyBytes) = (client.prepare(plain), plain.count)
        }
        let end = lines.last!.upperBound + 1
        // Counted only once the progress past these lines is saved: a pass
        // that cannot save it sends them again, and must not count twice.
        var count: ((Int64) throws(SpoolError) -> Void)?
        switch deliver(writeKey: writeKey, body: body, deadline: deadline) {
        case .delivered:
            report.batches += 1
            report.delivered += lines.count
            report.deliveredBytes += bodyBytes
            count = { now throws(SpoolError) in try self.writer.recordDelivery(events: lines.count, bytes: bodyBytes, nowMillis: now) }
        case .retry(let reason, _, _, _):
            // Each failed attempt was counted as it came (`deliver`).
            if settings.shouldStop() { return .stopped }
            return .unavailable(reason)
        case .misdirected(let status, let reason):
            log(.error, "drain stopped, nothing rejected: \(reason)")
            note { now throws(SpoolError) in try writer.recordDeliveryFailure(.misdirected, status: status, nowMillis: now) }
            return .misconfigured(reason)
        case .refused(let status, let answer) where lines.count > 1 && status != 401 && status != 403:
            // One bad event fails a whole request: halve until it is alone.
            log(.warn, "data plane refused a batch of \(lines.count) (HTTP \(status)): \(answer.prefix(200)); splitting it")
            let middle = lines.startIndex + lines.count / 2
            if let stop = try deliverRun(lines[..<middle], writeKey: writeKey, prepared: nil, file: file, content: content,
                                         deadline: deadline, progressPath: progressPath, report: &report) {
                return stop
            }
            return try deliverRun(lines[middle...], writeKey: writeKey, prepared: nil, file: file, content: content,
                                  deadline: deadline, progressPath: progressPath, report: &report)
        case .refused(let status, let answer):
            report.batches += 1
            let now = SystemClock.nowMillis()
            if keptOrigins == nil {
                let kept = try? SpoolStatus.readFile(layout.rejectedDirectory + "/" + SpoolLayout.rejectedUpstreamName)
                keptOrigins = RejectedRecord.origins(kept ?? [])
            }
            var records: [UInt8] = []
            var origins: [String] = []
            for range in lines {
                let origin = "\(file):\(range.lowerBound)"
                if keptOrigins!.contains(origin) { continue }  // kept by a pass that died before its progress
                let line = SpoolLine.parse(content[range])!
                records += RejectedRecord.refusedEvent(writeKey: line.writeKey, event: content[line.eventRange],
                                                       status: status, answer: answer, atMillis: now, from: origin)
                origins.append(origin)
            }
            // Kept before the progress moves past them; if they cannot be
            // kept, the pass stops here and the file stays.
            if !records.isEmpty { _ = try writer.appendRejected(records, file: SpoolLayout.rejectedUpstreamName) }
            keptOrigins!.formUnion(origins)
            report.rejected += lines.count
            // Those a dead pass already kept were counted by it.
            let newlyKept = origins.count
            count = { now throws(SpoolError) in
                try self.writer.recordDeliveryFailure(.refused, status: status, refusedEvents: newlyKept, nowMillis: now)
            }
            log(.warn, "data plane refused \(lines.count == 1 ? "an event" : "\(lines.count) events") (HTTP \(status)): "
                + "\(answer.prefix(200)); kept in rejected/\(SpoolLayout.rejectedUpstreamName)")
        }
        try saveProgress(end, progressPath)
        if let count { note(count) }
        return nil
    }

    /// Adds to the spool's delivery totals (`pixelgate stats`); a failure
    /// to count is logged and does not stop the pass.
    func note(_ change: (Int64) throws(SpoolError) -> Void) {
        do {
            try change(SystemClock.nowMillis())
        } catch {
            log(.warn, "delivery not counted in \(layout.deliveryFile): \(error)")
        }
    }

    /// Sends one batch, retrying what is worth retrying until the deadline.
    func deliver(writeKey: String, body: PreparedBody, deadline: Int64) -> DeliveryResult {
        var attempt = 0
        while true {
            let result = client.send(writeKey: writeKey, prepared: body)
            guard case .retry(let reason, let retryAfter, let status, _) = result else { return result }
            // Every failed attempt, even one a retry makes good: a data
            // plane that keeps failing now and then shows in `stats`.
            note { now throws(SpoolError) in try writer.recordDeliveryFailure(.unavailable, status: status, nowMillis: now) }
            let backoff = min(settings.retryCapMillis, settings.retryBaseMillis << min(attempt, 16))
            // Full jitter over the upper half: drains on many hosts spread out.
            var delay = backoff / 2 + Int(generator.next(upperBound: UInt64(backoff / 2 + 1)))
            if let retryAfter { delay = max(delay, min(retryAfter, 300) * 1000) }
            if SystemClock.nowMillis() + Int64(delay) > deadline { return result }
            log(.warn, "data plane: \(reason); retrying in \(delay) ms")
            // In steps, so that a stop request is not kept waiting.
            var waited = 0
            while waited < delay {
                if settings.shouldStop() { return result }
                let step = min(100, delay - waited)
                SystemClock.sleep(millis: step)
                waited += step
            }
            attempt += 1
        }
    }

    /// Keeps bytes that are not a record in `rejected/`, whole; throws when
    /// they cannot be kept, which stops the pass with the file in place.
    func setAside(_ bytes: ArraySlice<UInt8>, reason: String, file: String, report: inout DrainReport) throws(SpoolError) {
        let record = RejectedRecord.setAside(bytes, reason: reason, file: file, atMillis: SystemClock.nowMillis())
        _ = try writer.appendRejected(record, file: SpoolLayout.setAsideName)
        report.setAside += 1
        log(.warn, "set aside \(bytes.count) unreadable bytes (\(reason)) in rejected/\(SpoolLayout.setAsideName)")
    }

    /// Written to a temporary name and renamed, so it is never half there.
    func saveProgress(_ offset: Int, _ path: String) throws(SpoolError) {
        let temporary = path + ".tmp"
        let fd = try writer.createFresh(temporary)
        defer { Sys.close(fd) }
        try Sys.writeAll(fd, Array("\(offset)\n".utf8), temporary)
        try Sys.rename(temporary, path)
    }
}


/// The next batch of a spool file, ready to send: the unreadable lines met
/// before it, and its lines, write key and body.
struct PlannedBatch: Sendable {
    /// Lines to set aside first, with the reason.
    var setAside: [(Range<Int>, String)] = []
    /// Where the batch starts (after the set-aside lines).
    var start: Int
    /// Nil when only set-aside lines were left.
    var writeKey: String?
    var lines: [Range<Int>] = []
    var body = PreparedBody(bytes: [], gzipped: false)
    var bodyBytes = 0
    /// Where the next batch starts.
    var end: Int
}

/// Cuts a spool file's content into batches: consecutive readable lines with
/// the same write key, up to the batch size. Reads only; runs on a helper
/// thread while the drain sends.
final class BatchPlanner: @unchecked Sendable {
    let content: [UInt8]
    let maxBatchBytes: Int
    /// Used only for `prepare`, which reads nothing the sending thread changes.
    let client: DataPlane

    init(content: [UInt8], maxBatchBytes: Int, client: DataPlane) {
        self.content = content
        self.maxBatchBytes = maxBatchBytes
        self.client = client
    }

    /// The index of the next newline at or after `from`.
    func newline(from: Int) -> Int? {
        content.withUnsafeBufferPointer { CStrings.firstIndex(of: 0x0A, in: $0, from: from) }
    }

    func plan(from start: Int) -> PlannedBatch {
        var offset = start
        var setAside: [(Range<Int>, String)] = []
        while offset < content.count {
            guard let end = newline(from: offset) else {
                // A torn last line: a writer was killed in mid-write.
                setAside.append((offset..<content.count, "incomplete last line"))
                return PlannedBatch(setAside: setAside, start: content.count, end: content.count)
            }
            guard let first = SpoolLine.parse(content[offset..<end]) else {
                setAside.append((offset..<end, "not a spool record"))
                offset = end + 1
                continue
            }
            var events: [ArraySlice<UInt8>] = [content[first.eventRange]]
            var lines: [Range<Int>] = [offset..<end]
            var size = first.eventRange.count
            var next = end + 1
            while next < content.count, let lineEnd = newline(from: next),
                  let line = SpoolLine.parse(content[next..<lineEnd]), line.writeKey == first.writeKey,
                  size + line.eventRange.count + 32 <= maxBatchBytes {
                events.append(content[line.eventRange])
                lines.append(next..<lineEnd)
                size += line.eventRange.count + 1
                next = lineEnd + 1
            }
            let body = DataPlaneClient.batchBody(events)
            return PlannedBatch(setAside: setAside, start: offset, writeKey: first.writeKey, lines: lines,
                                body: client.prepare(body), bodyBytes: body.count, end: next)
        }
        return PlannedBatch(setAside: setAside, start: content.count, end: content.count)
    }
}

/// Runs `body` on its own thread; `wait()` joins it and returns the result.
final class BackgroundTask<T: Sendable> {
    /// What the thread runs and where it leaves the result; the thread owns
    /// one reference until it ends, `wait()` reads the result after join.
    private final class Work: @unchecked Sendable {
        let body: @Sendable () -> T
        var result: T?
        init(_ body: @escaping @Sendable () -> T) { self.body = body }
        func run() { result = body() }
    }

    private let work: Work
    private let thread: ThreadHandle?
    private var joined = false

    init(_ body: @escaping @Sendable () -> T) {
        let work = Work(body)
        self.work = work
        thread = Threads.start { work.run() }
        if thread == nil { work.run() }  // no thread to be had: do it here
    }

    /// Joins the thread (once) and returns what it made.
    func wait() -> T {
        if let thread, !joined {
            Threads.join(thread)
            joined = true
        }
        return work.result!
    }
}
