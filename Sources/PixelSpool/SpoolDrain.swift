#if canImport(Glibc)
import Glibc
#endif
import PixelCore

/// How the drain batches and retries.
public struct DrainSettings {
    /// Largest batch body. The data plane refuses bodies over 4,000 KB; 512 KiB
    /// keeps a batch well under that, and a retry cheap.
    public var maxBatchBytes = 512 * 1024
    /// First retry delay; doubles per attempt up to `retryCapMillis`, with jitter.
    public var retryBaseMillis = 500
    public var retryCapMillis = 30_000
    /// `--once` gives up (exit 1, nothing lost) when this much time has passed.
    public var giveUpAfterMillis: Int64 = 300_000
    /// Asked between batches and during back-off: true ends the pass early
    /// (SIGTERM in `drain --follow`), with progress saved.
    public var shouldStop: @Sendable () -> Bool = { false }
    /// Called after every batch with the pass so far (progress on a terminal).
    public var onBatch: (DrainReport) -> Void = { _ in }

    public init() {}
}

/// What one drain pass did.
public struct DrainReport: Sendable, Equatable {
    public var files = 0
    public var batches = 0
    public var delivered = 0
    public var deliveredBytes = 0
    public var rejected = 0
    public var setAside = 0
    /// Set when the pass stopped before the spool was empty (data plane down
    /// past the deadline); the files stay, with their progress.
    public var unfinished: String?
}

/// Ships sealed spool files to the data plane, file by file, in batches of
/// consecutive lines with the same write key.
///
/// A file is taken under an exclusive non-blocking `flock`, so two drains
/// never send the same file; a crashed drain's lock goes with it. Progress
/// (the offset delivered up to) is saved after every batch beside the file,
/// so a restarted drain resends at most the batch that was in flight. A file
/// is removed only when every line in it is delivered, rejected or set aside.
public final class SpoolDrain {
    let writer: SpoolWriter
    let client: DataPlaneClient
    let settings: DrainSettings
    let log: (HandlerOutcome.Level, String) -> Void
    private var generator = SystemRandomNumberGenerator()
    var layout: SpoolLayout { writer.layout }

    public init(writer: SpoolWriter, client: DataPlaneClient, settings: DrainSettings, log: @escaping (HandlerOutcome.Level, String) -> Void) {
        self.writer = writer
        self.client = client
        self.settings = settings
        self.log = log
    }

    /// Seals the active file (when `forceSeal`, else only once it is due by
    /// age) and delivers every sealed file there is.
    public func runOnce(forceSeal: Bool = true) -> DrainReport {
        var report = DrainReport()
        let deadline = Sys.nowMillis() + settings.giveUpAfterMillis
        do {
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
                if report.unfinished != nil || settings.shouldStop() { break }
            }
        } catch {
            report.unfinished = "\(error)"
        }
        return report
    }

    func drainFile(_ name: String, deadline: Int64, report: inout DrainReport) throws(SpoolError) {
        let path = layout.directory + "/" + name
        let progressPath = layout.directory + "/" + SpoolLayout.progressName(of: name)
        let fd: Int32
        do throws(SpoolError) {
            fd = try Sys.open(path, O_RDONLY)
        } catch where error.errno == ENOENT {
            return  // another drain finished it
        }
        defer { Sys.close(fd) }
        guard try Sys.tryLock(fd, path) else { return }  // another drain has it
        // It may have been finished and removed between our open and lock.
        guard let current = try Sys.statIfExists(path), current.st_ino == (try Sys.fstat(fd, path)).st_ino else { return }
        report.files += 1
        let content = try SpoolStatus.readFile(path)
        var offset = min(readProgress(progressPath), content.count)

        // While one batch is on the wire, the next is read, checked and
        // compressed on another thread: the drain's own work overlaps the
        // data plane's.
        let planner = BatchPlanner(content: content, maxBatchBytes: settings.maxBatchBytes, client: client)
        let resumeAt = offset
        var next: BackgroundTask<PlannedBatch>? = offset < content.count ? BackgroundTask { planner.plan(from: resumeAt) } : nil
        while let pending = next {
            let batch = pending.wait()
            next = nil
            for (range, reason) in batch.setAside { setAside(content[range], reason: reason, report: &report) }
            if !batch.setAside.isEmpty {
                offset = batch.start
                try saveProgress(offset, progressPath)
            }
            guard let writeKey = batch.writeKey else { continue }  // only set-asides, up to the end
            let following = batch.end
            if following < content.count { next = BackgroundTask { planner.plan(from: following) } }
            switch deliver(writeKey: writeKey, body: batch.body, deadline: deadline) {
            case .delivered:
                report.batches += 1
                report.delivered += batch.lines.count
                report.deliveredBytes += batch.bodyBytes
            case .rejected(let status, let answer):
                report.batches += 1
                report.rejected += batch.lines.count
                log(.warn, "data plane refused a batch of \(batch.lines.count) (HTTP \(status)): \(answer.prefix(200)); kept in rejected/\(SpoolLayout.rejectedUpstreamName)")
                for range in batch.lines { keepRejected(content[range], status: status, answer: answer) }
            case .retry(let reason, _):
                _ = next?.wait()
                try saveProgress(batch.start, progressPath)
                report.unfinished = "data plane unavailable: \(reason)"
                return
            }
            offset = batch.end
            try saveProgress(offset, progressPath)
            settings.onBatch(report)
            if settings.shouldStop() && offset < content.count {
                _ = next?.wait()
                report.unfinished = "stopped"
                return
            }
        }
        try Sys.unlink(path)
        try Sys.unlink(progressPath)
    }

    /// Sends one batch, retrying what is worth retrying until the deadline.
    func deliver(writeKey: String, body: DataPlaneClient.PreparedBody, deadline: Int64) -> DeliveryResult {
        var attempt = 0
        while true {
            let result = client.send(writeKey: writeKey, prepared: body)
            guard case .retry(let reason, let retryAfter) = result else { return result }
            let backoff = min(settings.retryCapMillis, settings.retryBaseMillis << min(attempt, 16))
            // Full jitter over the upper half: drains on many hosts spread out.
            var delay = backoff / 2 + Int(generator.next(upperBound: UInt64(backoff / 2 + 1)))
            if let retryAfter { delay = max(delay, min(retryAfter, 300) * 1000) }
            if Sys.nowMillis() + Int64(delay) > deadline { return result }
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

    func keepRejected(_ line: ArraySlice<UInt8>, status: Int, answer: String) {
        var record = JSONObject()
        record["rejectedAt"] = .string(ISO8601.format(millis: Sys.nowMillis()))
        record["status"] = .string(String(status))
        record["answer"] = .string(answer)
        record["line"] = .string(String(decoding: line, as: UTF8.self))
        var bytes = JSONValue.object(record).jsonBytes
        bytes.append(0x0A)
        if (try? writer.appendRejected(bytes, file: SpoolLayout.rejectedUpstreamName)) != true {
            log(.error, "a refused event could not be kept in rejected/ (cap or write error)")
        }
    }

    func setAside(_ bytes: ArraySlice<UInt8>, reason: String, report: inout DrainReport) {
        report.setAside += 1
        var record = JSONObject()
        record["setAsideAt"] = .string(ISO8601.format(millis: Sys.nowMillis()))
        record["reason"] = .string(reason)
        record["bytes"] = .string(String(decoding: bytes.prefix(64 * 1024), as: UTF8.self))
        var line = JSONValue.object(record).jsonBytes
        line.append(0x0A)
        _ = try? writer.appendRejected(line, file: SpoolLayout.setAsideName)
        log(.warn, "set aside \(bytes.count) unreadable bytes (\(reason)) in rejected/\(SpoolLayout.setAsideName)")
    }

    func readProgress(_ path: String) -> Int {
        guard let bytes = try? SpoolStatus.readFile(path) else { return 0 }
        return Int(String(decoding: bytes.prefix { $0 != 0x0A }, as: UTF8.self)) ?? 0
    }

    /// Written to a temporary name and renamed, so it is never half there.
    func saveProgress(_ offset: Int, _ path: String) throws(SpoolError) {
        let temporary = path + ".tmp"
        let fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = try Sys.writeOnce(fd, Array("\(offset)\n".utf8), temporary)
        Sys.close(fd)
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
    var body = DataPlaneClient.PreparedBody(bytes: [], gzipped: false)
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
    let client: DataPlaneClient

    init(content: [UInt8], maxBatchBytes: Int, client: DataPlaneClient) {
        self.content = content
        self.maxBatchBytes = maxBatchBytes
        self.client = client
    }

    /// The index of the next newline at or after `from`.
    func newline(from: Int) -> Int? {
        content.withUnsafeBufferPointer { b -> Int? in
            guard from < b.count, let hit = memchr(b.baseAddress! + from, 0x0A, b.count - from) else { return nil }
            return UnsafeRawPointer(hit) - UnsafeRawPointer(b.baseAddress!)
        }
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
    private let thread: pthread_t?
    private var joined = false

    init(_ body: @escaping @Sendable () -> T) {
        let work = Work(body)
        self.work = work
        thread = startThread { work.run() }
        if thread == nil { work.run() }  // no thread to be had: do it here
    }

    /// Joins the thread (once) and returns what it made.
    func wait() -> T {
        if let thread, !joined {
            pthread_join(thread, nil)
            joined = true
        }
        return work.result!
    }
}
