import PixelSystem
import PixelCore

/// How the drain batches and retries.
public struct DrainSettings {
    /// Largest batch body. The data plane refuses bodies over 4,000 KB; 512 KiB
    /// keeps a batch well under that, and a retry cheap.
    public var maxBatchBytes = 512 * 1024
    /// How much of a file is read and grouped at a time: the events of one
    /// address within it travel in one request (RudderStack keeps one
    /// address per request), so a visitor's page and track hits go
    /// together while the window stays a bounded amount of memory and of
    /// progress to write.
    public var windowBytes = 16 * 1024 * 1024
    /// First retry delay; doubles per attempt up to `retryCapMillis`, with jitter.
    public var retryBaseMillis = 500
    public var retryCapMillis = 30_000
    /// `--once` gives up (exit 75, nothing lost) when the data plane has
    /// been unavailable this long, from a batch's first failure: about a
    /// minute, as cron runs it again within minutes.
    public var giveUpAfterMillis: Int64 = 60_000
    /// The data plane as its retry lines name it (the URL, without
    /// credentials).
    public var dataPlaneName = "data plane"
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
    /// Another drain was at work on this spool: this pass did nothing. When
    /// that drain has shown no progress for longer than a pass can take
    /// (`SpoolDrain.stuckAfterMillis`), `stop` says so too.
    public var busy = false
}

/// Ships sealed spool files to the data plane, file by file. Each file is
/// read a window at a time; the window's events are grouped by write key
/// and stored address, and each group goes in requests of its own:
/// RudderStack's gateway keeps one client address per `/v1/batch` request
/// and its processor writes it into every event (SPEC §6), so a request
/// mixing visitors would give all but one of them another's address.
///
/// A file is taken under an exclusive non-blocking `flock`, so two drains
/// never send the same file; a crashed drain's lock goes with it. Progress
/// (the offset delivered up to) is saved after every batch beside the file,
/// so a restarted drain resends at most the batch that was in flight
/// (`SpoolProgress`: the window's offset, then each request's lines). A
/// batch the data plane refuses (400, 413) is halved until only the events
/// it refuses are left; those are kept in `rejected/`. A file is removed
/// only when every line in it is delivered or kept; a wrong URL or key
/// stops the pass with everything in place.
public final class SpoolDrain {
    let writer: SpoolWriter
    let client: DataPlane
    /// Clients of their own for the requests sent beside `client`'s (one
    /// connection each): the first attempt of up to `1 + count` requests
    /// is on the wire at once. Empty sends one at a time.
    let parallelClients: [DataPlane]
    /// The threads that send with `parallelClients`, during a pass.
    private var senders: SenderThreads?
    let settings: DrainSettings
    let log: (LogLevel, String) -> Void
    private var generator = SystemRandomNumberGenerator()
    /// Where the refused events already kept in `rejected/` came from
    /// (`file:offset`), read once a pass when the first refusal comes: a
    /// pass that meets a refusal again after a crash keeps it only once.
    private var keptOrigins: Set<String>?
    var layout: SpoolLayout { writer.layout }
    /// The drain lock, held during a pass; its time is stamped as the pass
    /// makes progress, so a pass that finds it taken can tell a drain at
    /// work from a lock held on and on.
    private var runLockFD: Int32 = -1

    /// A drain lock whose stamp is older than this is not a pass at work:
    /// a pass stamps it as each window goes and at each retry, and no
    /// request or back-off (30 s at most) takes this long.
    static let stuckAfterMillis: Int64 = 600_000
    var stuckAfterMillis: Int64 { SpoolDrain.stuckAfterMillis }

    /// Stamps the drain lock: this pass is at work.
    func stampRunLock() {
        if runLockFD >= 0 { try? Sys.touch(runLockFD, layout.directory + "/" + SpoolLayout.drainLockName) }
    }

    public init(writer: SpoolWriter, client: DataPlane, parallelClients: [DataPlane] = [], settings: DrainSettings,
                log: @escaping (LogLevel, String) -> Void) {
        self.writer = writer
        self.client = client
        self.parallelClients = parallelClients
        self.settings = settings
        self.log = log
    }

    /// Seals the active file (when `forceSeal`, else only once it is due by
    /// age) and delivers every sealed file there is.
    public func runOnce(forceSeal: Bool = true) -> DrainReport {
        var report = DrainReport()
        keptOrigins = nil
        if !parallelClients.isEmpty { senders = SenderThreads(count: parallelClients.count) }
        defer {
            senders?.stop()
            senders = nil
        }
        do throws(SpoolError) {
            // One drain at a time on a spool (cron runs that overlap, a
            // drain by hand beside the timer's): one finding another at
            // work ends at once. Files are also taken one by one under
            // their own locks, so even drains that bypass this one never
            // send a file twice.
            let owner = try writer.spoolOwnership()
            let runLock = owner.directory.pathOf(SpoolLayout.drainLockName)
            runLockFD = try owner.open(SpoolLayout.drainLockName, OpenFlag.readWrite | OpenFlag.create)
            defer {
                Sys.close(runLockFD)
                runLockFD = -1
            }
            guard try Sys.tryLock(runLockFD, runLock) else {
                report.busy = true
                let stamped = SystemClock.millis(try Sys.fstat(runLockFD, runLock).st_mtim)
                let idle = SystemClock.nowMillis() - stamped
                if idle > stuckAfterMillis {
                    report.stop = .localFailure("\(runLock) has been held for \(idle / 1000) s with no drain progress, longer than a pass can take "
                        + "(\(stuckAfterMillis / 1000) s): nothing is being delivered. Find its holder with fuser -v \(runLock)")
                }
                return report
            }
            try Sys.touch(runLockFD, runLock)
            try writer.sealIfDue(force: forceSeal)
            let entries = try owner.directory.names()
            let names = entries.filter(SpoolLayout.isSealed).sorted()
            // Progress of a file already removed (a drain killed between the
            // two unlinks) is no longer anyone's.
            for entry in entries where entry.hasSuffix(".progress") && entry.hasPrefix(".") {
                let sealed = String(entry.dropFirst().dropLast(".progress".count))
                if !names.contains(sealed) { try? owner.directory.remove(entry) }
            }
            for name in names {
                try drainFile(name, report: &report)
                if report.stop != nil { break }
                if settings.shouldStop() { report.stop = .stopped; break }
            }
        } catch {
            // An unsafe spool is the operator's to fix, like a wrong URL.
            report.stop = error.unsafeBecause == nil ? .localFailure("\(error)") : .misconfigured("\(error)")
        }
        return report
    }

    func drainFile(_ name: String, report: inout DrainReport) throws(SpoolError) {
        let owner = try writer.spoolOwnership()
        let directory = owner.directory
        let path = directory.pathOf(name)
        let progressName = SpoolLayout.progressName(of: name)
        let fd: Int32
        do throws(SpoolError) {
            // Checked as opened: a regular file, one name, the spool's users'.
            fd = try owner.open(name, OpenFlag.readOnly | OpenFlag.nonBlocking)
        } catch where error.errno == Errno.noEntry {
            return  // another drain finished it
        } catch where error.errno == Errno.loop {
            log(.warn, "\(name) is a symbolic link, not a spool file: skipped (remove it)")
            return
        } catch where error.unsafeBecause != nil {
            log(.warn, "\(name) skipped: \(error.unsafeBecause ?? "")")
            return
        }
        defer { Sys.close(fd) }
        guard try Sys.tryLock(fd, path) else {
            // This pass holds the drain lock, so no drain of this spool has it.
            log(.warn, "\(name) is locked by another process, not a drain: skipped (find it with fuser -v \(path))")
            return
        }
        // It may have been finished and removed between our open and lock.
        let opened = try Sys.fstat(fd, path)
        guard let current = try directory.statusOf(name), current.st_ino == opened.st_ino, current.st_dev == opened.st_dev else { return }
        if Int(opened.st_size) > writer.settings.largestSealedBytes {
            // No seal makes a file this large: someone else wrote it. It is
            // set aside unread where stats shows it, and the files after it go on.
            let asideName = "oversized-" + name
            try directory.rename(name, to: asideName, in: try writer.rejectedDirectory())
            log(.warn, "\(name) is \(opened.st_size) bytes, more than a seal makes here (\(writer.settings.largestSealedBytes)): "
                + "not sent, moved to \(layout.rejectedDirectory)/\(asideName); look at who wrote it (one sealed under a larger "
                + "PIXELGATE_SEAL_BYTES goes out once that is raised again and the file moved back)")
            return
        }
        report.files += 1
        // Read a window at a time through the descriptor locked above.
        let file = SpoolFile(fd: fd, path: path, size: Int(opened.st_size))
        let saved: [UInt8]?
        do throws(SpoolError) {
            saved = try SpoolStatus.readFile(progressName, in: SpoolPlace(owner: owner, directory: directory), limit: SpoolStatus.largestSealedBytes)
        } catch where error.errno == Errno.noEntry {
            saved = nil
        }
        let progress = SpoolProgress.resolve(saved, size: file.size) { file.byte(at: $0) }
        if let problem = progress.problem { log(.warn, "\(name): \(problem)") }
        let done = progress.done

        // While one window's requests are on the wire, the next window is
        // read, grouped and compressed on another thread: the drain's own
        // work overlaps the data plane's.
        let planner = BatchPlanner(file: file, maxBatchBytes: settings.maxBatchBytes,
                                   windowBytes: settings.windowBytes, client: client)
        let resumeAt = progress.offset
        var next: BackgroundTask<PlannedWindow>? = resumeAt < file.size ? BackgroundTask { planner.plan(from: resumeAt, done: done) } : nil
        // However the loop ends, the planning thread is joined.
        defer { _ = next?.wait() }
        var journal = ProgressJournal(name: progressName, in: directory)
        defer { journal.release() }
        while let pending = next {
            let window = pending.wait()
            next = nil
            if let error = window.readError { throw error }
            let content = window.bytes
            if window.end < file.size { next = BackgroundTask { planner.plan(from: window.end, done: done) } }
            // The window's offset first, with what an earlier pass already
            // did past it; each request's lines are appended as it is done.
            try journal.begin(at: window.start, carrying: done, writer: writer)
            for (range, reason) in window.setAside {
                try setAside(content[range], reason: reason, file: name, report: &report)
                journal.append([range.lowerBound])
            }
            try flush(&journal)
            // A round's requests go out at once, each on its own
            // connection, and each delivered one is journaled the moment its
            // answer comes, so a crash resends only what was in flight.
            // Their answers are then taken in order here, where anything
            // but a delivery (a retry, a refusal to split) is handled one
            // at a time as before.
            let roundSize = senders == nil ? 1 : 1 + parallelClients.count
            var first = 0
            while first < window.batches.count {
                let round = window.batches[first..<min(first + roundSize, window.batches.count)]
                let answers = firstAnswers(round, journal: journal.handle)
                precondition(answers.count == round.count, "a round's answers went missing")
                // What the threads delivered and journaled is counted at
                // once: its progress is saved, whatever the rest does.
                countDelivered(zip(round, answers).filter { $0.1.journaled }.map(\.0), report: &report)
                var stop: DrainStop?
                do throws(SpoolError) {
                    for (batch, attempt) in zip(round, answers) {
                        let answer = attempt.answer
                        if answer == .delivered {
                            // Delivered but not recorded (a full disk): the
                            // pass stops, and the batch will be sent again.
                            if let error = attempt.journalError { throw error }
                            settings.onBatch(report)
                            continue
                        }
                        if stop != nil {
                            // The pass is stopping: failed attempts are still counted.
                            if case .retry(_, _, let status, _) = answer {
                                note { now throws(SpoolError) in try writer.recordDeliveryFailure(.unavailable, status: status, nowMillis: now) }
                            } else if case .misdirected(let status, _) = answer {
                                note { now throws(SpoolError) in try writer.recordDeliveryFailure(.misdirected, status: status, nowMillis: now) }
                            }
                            continue
                        }
                        stop = try deliverRun(batch.lines[...], writeKey: batch.writeKey, prepared: (batch.body, batch.bodyBytes), file: name,
                                              content: content, firstAnswer: answer, journal: &journal, report: &report)
                        settings.onBatch(report)
                    }
                } catch {
                    // What the round kept or delivered before the failure
                    // is still counted, if its progress can be saved.
                    try? flush(&journal)
                    throw error
                }
                try flush(&journal)
                if let stop {
                    report.stop = stop
                    return
                }
                first = round.endIndex
                if settings.shouldStop() && (next != nil || first < window.batches.count) {
                    report.stop = .stopped
                    return
                }
            }
        }
        journal.release()
        try directory.remove(name)
        try directory.remove(progressName)
    }

    /// Delivers `lines` of one write key and one address, halving the run
    /// when the data plane refuses it, until each event is delivered or
    /// (alone) refused and kept. Each part's lines are journaled as done
    /// once it is. Returns why the pass must stop, or nil when the whole
    /// run is done.
    ///
    /// - Parameter firstAnswer: the answer to a first attempt already made
    ///   (beside others, `firstAnswers`); retries go on from there.
    func deliverRun(_ lines: ArraySlice<Range<Int>>, writeKey: String, prepared: (PreparedBody, Int)?,
                    file: String, content: FileWindow, firstAnswer: DeliveryResult? = nil,
                    journal: inout ProgressJournal, report: inout DrainReport) throws(SpoolError) -> DrainStop? {
        let (body, bodyBytes): (PreparedBody, Int)
        if let prepared {
            (body, bodyBytes) = prepared
        } else {
            let plain = BatchPlanner.body(lines.map { range -> ArraySlice<UInt8> in
                let line = content[range]
                return line[SpoolLine.parse(line)!.eventRange]
            })
            (body, bodyBytes) = (client.prepare(plain), plain.count)
        }
        // Counted only once the progress past these lines is saved
        // (`flush`): a pass that cannot save it sends them again, and must
        // not count twice.
        switch deliver(writeKey: writeKey, body: body, firstAnswer: firstAnswer) {
        case .delivered:
            report.batches += 1
            report.delivered += lines.count
            report.deliveredBytes += bodyBytes
            journal.delivered.events += lines.count
            journal.delivered.bytes += bodyBytes
            journal.delivered.batches += 1
            for range in lines { journal.delivered.routes.add(line: content[range]) }
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
                                         journal: &journal, report: &report) {
                return stop
            }
            return try deliverRun(lines[middle...], writeKey: writeKey, prepared: nil, file: file, content: content,
                                  journal: &journal, report: &report)
        case .refused(let status, let answer):
            report.batches += 1
            let now = SystemClock.nowMillis()
            if keptOrigins == nil {
                var origins = Set<String>()
                try? SpoolStatus.forEachLine(SpoolLayout.rejectedUpstreamName,
                                             in: SpoolPlace(owner: try writer.spoolOwnership(), directory: try writer.rejectedDirectory())) {
                    RejectedRecord.addOrigin(of: $0, to: &origins)
                }
                keptOrigins = origins
            }
            var records: [UInt8] = []
            var origins: [String] = []
            for range in lines {
                let origin = "\(file):\(range.lowerBound)"
                if keptOrigins!.contains(origin) { continue }  // kept by a pass that died before its progress
                let bytes = content[range]
                let line = SpoolLine.parse(bytes)!
                records += RejectedRecord.refusedEvent(writeKey: line.writeKey, event: bytes[line.eventRange], status: status,
                                                       click: SpoolLine.route(bytes, eventRange: line.eventRange) == .click,
                                                       answer: answer, atMillis: now, from: origin)
                origins.append(origin)
            }
            // Kept before the progress moves past them; if they cannot be
            // kept, the pass stops here and the file stays.
            if !records.isEmpty { _ = try writer.appendRejected(records, file: SpoolLayout.rejectedUpstreamName) }
            keptOrigins!.formUnion(origins)
            report.rejected += lines.count
            // Those a dead pass already kept were counted by it.
            let newlyKept = origins.count
            journal.refusals.append(RefusalTally(status: status, events: newlyKept))
            log(.warn, "data plane refused \(lines.count == 1 ? "an event" : "\(lines.count) events") (HTTP \(status)): "
                + "\(answer.prefix(200)); kept in rejected/\(SpoolLayout.rejectedUpstreamName)")
        }
        // Journaled at once: a retry or a half may come long after the
        // round began, and a crash must not send it again.
        journal.append(lines.map(\.lowerBound))
        try journal.write()
        return nil
    }

    /// The first attempt of each batch of a round, sent at once: the first
    /// by `client` on this thread, the others by `parallelClients` on
    /// threads of their own. Each delivered batch's lines are journaled at
    /// once by whoever sent it. Answers in the round's order.
    func firstAnswers(_ round: ArraySlice<PlannedBatch>, journal: ProgressJournal.Handle) -> [FirstAnswer] {
        @Sendable func attempt(_ client: DataPlane, _ batch: PlannedBatch) -> FirstAnswer {
            let answer = client.send(writeKey: batch.writeKey, prepared: batch.body)
            guard answer == .delivered else { return FirstAnswer(answer: answer) }
            do {
                try journal.record(batch.lines.map(\.lowerBound))
                return FirstAnswer(answer: answer, journaled: true)
            } catch {
                return FirstAnswer(answer: answer, journalError: error)
            }
        }
        let head = round[round.startIndex]
        guard round.count > 1, let senders else { return [attempt(client, head)] }
        senders.start(round.dropFirst().enumerated().map { i, batch in
            let sender = Handoff(parallelClients[i])
            return { attempt(sender.value, batch) }
        })
        let first = attempt(client, head)
        return [first] + senders.results()
    }

    /// Counts batches whose first attempt was delivered and journaled.
    func countDelivered(_ batches: [PlannedBatch], report: inout DrainReport) {
        guard !batches.isEmpty else { return }
        var tally = DeliveryTally()
        for batch in batches {
            tally.events += batch.lines.count
            tally.bytes += batch.bodyBytes
            tally.batches += 1
            tally.routes += batch.routes
        }
        report.batches += tally.batches
        report.delivered += tally.events
        report.deliveredBytes += tally.bytes
        note { now throws(SpoolError) in
            try writer.recordDelivery(events: tally.events, bytes: tally.bytes, batches: tally.batches, routes: tally.routes, nowMillis: now)
        }
    }

    /// Writes the lines done since the last flush to the progress file,
    /// then counts what they were (one counter update for all).
    func flush(_ journal: inout ProgressJournal) throws(SpoolError) {
        try journal.write()
        stampRunLock()
        let delivered = journal.delivered
        if delivered.batches > 0 {
            note { now throws(SpoolError) in
                try writer.recordDelivery(events: delivered.events, bytes: delivered.bytes, batches: delivered.batches,
                                          routes: delivered.routes, nowMillis: now)
            }
        }
        for refusal in journal.refusals {
            note { now throws(SpoolError) in
                try writer.recordDeliveryFailure(.refused, status: refusal.status, refusedEvents: refusal.events, nowMillis: now)
            }
        }
        journal.delivered = DeliveryTally()
        journal.refusals = []
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

    /// Sends one batch, retrying what is worth retrying while the data
    /// plane has been unavailable for less than `giveUpAfterMillis`,
    /// counted from this batch's first failure: a long pass that meets a
    /// moment's 503 late still retries it.
    func deliver(writeKey: String, body: PreparedBody, firstAnswer: DeliveryResult? = nil) -> DeliveryResult {
        var attempt = 0
        var answered = firstAnswer
        var giveUpAt: Int64?
        while true {
            let result = answered ?? client.send(writeKey: writeKey, prepared: body)
            answered = nil
            guard case .retry(let reason, let retryAfter, let status, _) = result else { return result }
            // Every failed attempt, even one a retry makes good: a data
            // plane that keeps failing now and then shows in `stats`.
            note { now throws(SpoolError) in try writer.recordDeliveryFailure(.unavailable, status: status, nowMillis: now) }
            let backoff = min(settings.retryCapMillis, settings.retryBaseMillis << min(attempt, 16))
            // Full jitter over the upper half: drains on many hosts spread out.
            var delay = backoff / 2 + Int(generator.next(upperBound: UInt64(backoff / 2 + 1)))
            if let retryAfter { delay = max(delay, min(retryAfter, 300) * 1000) }
            let now = SystemClock.nowMillis()
            let deadline = giveUpAt ?? now + settings.giveUpAfterMillis
            giveUpAt = deadline
            if now + Int64(delay) > deadline { return result }
            // Each line names the data plane and says until when: a drain
            // that seems to hang is one that waits for it.
            log(.warn, "data plane \(settings.dataPlaneName): \(reason); retrying in \(Self.seconds(delay)), "
                + "giving up this pass in \(Self.seconds(Int(deadline - now)))")
            stampRunLock()
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

    /// `1.2 s`, `45 s`: a wait as a person reads it.
    static func seconds(_ millis: Int) -> String {
        millis < 10_000 ? "\(millis / 1000).\(millis % 1000 / 100) s" : "\((millis + 500) / 1000) s"
    }

    /// Keeps bytes that are not a record in `rejected/`, whole; throws when
    /// they cannot be kept, which stops the pass with the file in place.
    func setAside(_ bytes: ArraySlice<UInt8>, reason: String, file: String, report: inout DrainReport) throws(SpoolError) {
        let record = RejectedRecord.setAside(bytes, reason: reason, file: file, atMillis: SystemClock.nowMillis())
        _ = try writer.appendRejected(record, file: SpoolLayout.setAsideName)
        report.setAside += 1
        log(.warn, "set aside \(bytes.count) unreadable bytes (\(reason)) in rejected/\(SpoolLayout.setAsideName)")
    }
}

/// Threads that each run one job at a time for the drain: the first
/// attempts of a round's requests beside the drain's own. Started for a
/// pass and stopped at its end, rather than a thread a request.
final class SenderThreads: @unchecked Sendable {
    /// What a thread is given: a job, or the word to end.
    enum Order {
        case none, run(@Sendable () -> FirstAnswer), end
    }

    /// One condition per thread, which wakes that thread alone; the
    /// drain's thread alone waits on `answers`.
    private let orders: [PThreadCondition<Order>]
    private let answers: PThreadCondition<[FirstAnswer?]>
    private var threads: [ThreadHandle] = []
    private var pending = 0

    init(count: Int) {
        orders = (0..<count).map { _ in PThreadCondition(Order.none) }
        answers = PThreadCondition(Array(repeating: nil, count: count))
        for i in 0..<count {
            let order = orders[i], answers = self.answers
            guard let thread = Threads.start({ SenderThreads.work(i, order, answers) }) else { break }
            threads.append(thread)
        }
    }

    static func work(_ i: Int, _ order: PThreadCondition<Order>, _ answers: PThreadCondition<[FirstAnswer?]>) {
        while true {
            let given = order.wait(until: { if case .none = $0 { return false } else { return true } }, then: { o -> Order in
                defer { if case .run = o { o = .none } }
                return o
            })
            guard case .run(let job) = given else { return }
            let answer = job()
            answers.change { $0[i] = answer }
        }
    }

    /// Hands job `i` to thread `i`; one the system gave no thread to runs here.
    func start(_ jobs: [@Sendable () -> FirstAnswer]) {
        for (i, job) in jobs.enumerated() {
            if i < threads.count {
                orders[i].change { $0 = .run(job) }
            } else {
                let answer = job()
                answers.change { $0[i] = answer }
            }
        }
        pending = jobs.count
    }

    /// The answers of the jobs `start` handed out, in their order, once all are in.
    func results() -> [FirstAnswer] {
        let count = pending
        pending = 0
        return answers.wait(until: { $0[..<count].allSatisfy { $0 != nil } }, then: { r in
            defer { for i in 0..<count { r[i] = nil } }
            return r[..<count].map { $0! }
        })
    }

    func stop() {
        for order in orders { order.change { $0 = .end } }
        for thread in threads { Threads.join(thread) }
        threads = []
    }
}

/// A first attempt's answer, and whether its lines were journaled.
struct FirstAnswer: Sendable {
    var answer: DeliveryResult
    var journaled = false
    /// Why a delivered batch could not be journaled.
    var journalError: SpoolError?
}

/// What delivered batches add to the spool's totals, once recorded.
struct DeliveryTally {
    var events = 0
    var bytes = 0
    var batches = 0
    var routes = RouteCounts()
}

/// A refusal to count once its events' progress is recorded.
struct RefusalTally {
    var status: Int
    var events: Int
}

/// The open progress file of the file being drained (`SpoolProgress`).
struct ProgressJournal {
    let name: String
    let directory: PinnedDirectory
    var path: String { directory.pathOf(name) }
    private var fd: Int32 = -1

    init(name: String, in directory: PinnedDirectory) {
        self.name = name
        self.directory = directory
    }

    /// Writes the window's offset and the lines already done past it to a
    /// temporary name, renames it over the progress file (so it is never
    /// half there), and keeps it open to append to.
    mutating func begin(at offset: Int, carrying done: Set<Int>, writer: SpoolWriter) throws(SpoolError) {
        release()
        let temporary = name + ".tmp"
        let fd = try writer.createFresh(temporary, in: directory, append: true)
        do throws(SpoolError) {
            try Sys.writeAll(fd, SpoolProgress.header(offset, carrying: done), directory.pathOf(temporary))
            try directory.rename(temporary, to: name)
        } catch {
            Sys.close(fd)
            throw error
        }
        self.fd = fd
    }

    /// The open progress file as the threads of a round write to it: one
    /// `write` of a whole line each, appended (O_APPEND), so lines from
    /// several threads never mix.
    struct Handle: Sendable {
        let fd: Int32
        let path: String

        func record(_ starts: [Int]) throws(SpoolError) {
            precondition(fd >= 0, "progress journal written before begin")
            try Sys.writeAll(fd, SpoolProgress.journalLine(starts), path)
        }
    }

    var handle: Handle { Handle(fd: fd, path: path) }

    /// Lines done but not yet written, and what they count for once they are.
    private var pending: [Int] = []
    var delivered = DeliveryTally()
    var refusals: [RefusalTally] = []

    /// Notes lines as done; `write` records them.
    mutating func append(_ starts: [Int]) {
        pending += starts
    }

    /// Records the lines noted as done: one journal line, one `write`.
    mutating func write() throws(SpoolError) {
        guard !pending.isEmpty else { return }
        try handle.record(pending)
        pending.removeAll(keepingCapacity: true)
    }

    mutating func release() {
        if fd >= 0 { Sys.close(fd) }
        fd = -1
    }
}

/// One request's worth of a window: events of one write key and one
/// stored address, in file order, and the body made of them.
struct PlannedBatch: Sendable {
    var writeKey: String
    var lines: [Range<Int>]
    var body: PreparedBody
    var bodyBytes: Int
    /// Its events by route (`SpoolLine.route`), for the delivery counts.
    var routes = RouteCounts()
}

/// A window of a spool file, ready to send: the unreadable lines in it,
/// then its requests.
struct PlannedWindow: Sendable {
    /// Where the window starts (the progress offset while it is sent).
    var start: Int
    /// The file's bytes the window's ranges are in.
    var bytes = FileWindow(base: 0, bytes: [])
    /// Set when the file could not be read: the pass stops on it.
    var readError: SpoolError?
    /// Lines to set aside, with the reason.
    var setAside: [(Range<Int>, String)] = []
    var batches: [PlannedBatch] = []
    /// Where the next window starts.
    var end: Int
}

/// Cuts a spool file into windows, read one at a time, and each window
/// into requests: readable lines grouped by write key and by the address
/// they were stored with (`SpoolLine.requestAddress`), groups in the order
/// they first appear, each cut to the batch size. Reads only; runs on a
/// helper thread while the drain sends.
final class BatchPlanner: @unchecked Sendable {
    let file: SpoolFile
    let maxBatchBytes: Int
    let windowBytes: Int
    /// Used only for `prepare`, which reads nothing the sending thread changes.
    let client: DataPlane

    init(file: SpoolFile, maxBatchBytes: Int, windowBytes: Int, client: DataPlane) {
        self.file = file
        self.maxBatchBytes = maxBatchBytes
        self.windowBytes = windowBytes
        self.client = client
    }

    /// The lines of one group, as the planner collects them.
    struct Group {
        var writeKey: String
        var lines: [Range<Int>] = []
        var events: [ArraySlice<UInt8>] = []
        var routes: [PixelRoute?] = []
    }

    /// The file's bytes from `start`: `windowBytes` of them, and then a
    /// megabyte at a time until the line that crosses the window's end has
    /// its newline (or the file ends): every line the window takes is whole
    /// in it.
    func read(from start: Int) throws(SpoolError) -> FileWindow {
        var bytes = try file.bytes(in: start..<(start + windowBytes))
        var searchFrom = max(0, bytes.count - 1)
        while start + bytes.count < file.size,
              bytes.withUnsafeBufferPointer({ CStrings.firstIndex(of: 0x0A, in: $0, from: searchFrom) }) == nil {
            searchFrom = bytes.count
            bytes += try file.bytes(in: (start + bytes.count)..<(start + bytes.count + (1 << 20)))
        }
        return FileWindow(base: start, bytes: bytes)
    }

    /// The window starting at `start`: lines up to `windowBytes` (at least
    /// one), skipping those `done` names (delivered by an earlier pass).
    func plan(from start: Int, done: Set<Int>) -> PlannedWindow {
        let content: FileWindow
        do throws(SpoolError) {
            content = try read(from: start)
        } catch {
            return PlannedWindow(start: start, readError: error, end: start)
        }
        var window = PlannedWindow(start: start, bytes: content, end: content.end)
        var groups: [Group] = []
        var index: [GroupKey: Int] = [:]
        var offset = start
        var taken = 0
        while offset < content.end && taken < windowBytes {
            guard let end = content.newline(from: offset) else {
                // A torn last line: a writer was killed in mid-write.
                if !done.contains(offset) { window.setAside.append((offset..<content.end, "incomplete last line")) }
                offset = content.end
                break
            }
            let range = offset..<end
            offset = end + 1
            taken += range.count + 1
            if done.contains(range.lowerBound) { continue }
            let bytes = content[range]
            guard let line = SpoolLine.parse(bytes) else {
                window.setAside.append((range, "not a spool record"))
                continue
            }
            let event = bytes[line.eventRange]
            let address = SpoolLine.requestAddress(event)
            let key = GroupKey(writeKey: line.writeKey, address: address.bytes)
            let g: Int
            if let known = index[key] {
                g = known
            } else {
                g = groups.count
                index[key] = g
                groups.append(Group(writeKey: line.writeKey))
            }
            groups[g].lines.append(range)
            groups[g].routes.append(SpoolLine.route(bytes, eventRange: line.eventRange))
            // The gateway would give an event without the key the sender's
            // (or the previous event's) address: it is sent with none.
            groups[g].events.append(address == .missing ? BatchPlanner.withEmptyAddress(event) : event)
        }
        window.end = offset
        for group in groups {
            var first = 0
            var size = 0
            for (i, event) in group.events.enumerated() {
                if i > first && size + event.count + 32 > maxBatchBytes {
                    window.batches.append(batch(group, first..<i))
                    first = i
                    size = 0
                }
                size += event.count + 1
            }
            window.batches.append(batch(group, first..<group.events.count))
        }
        return window
    }

    func batch(_ group: Group, _ part: Range<Int>) -> PlannedBatch {
        let body = DataPlaneClient.batchBody(Array(group.events[part]))
        var routes = RouteCounts()
        for route in group.routes[part] { routes.add(route) }
        return PlannedBatch(writeKey: group.writeKey, lines: Array(group.lines[part]), body: client.prepare(body), bodyBytes: body.count,
                            routes: routes)
    }

    /// `{"batch":[…]}` of these events (`DataPlaneClient.batchBody`), with
    /// `"request_ip":""` given to any event that lacks the key.
    static func body(_ events: some Collection<ArraySlice<UInt8>>) -> [UInt8] {
        DataPlaneClient.batchBody(events.map { SpoolLine.requestAddress($0) == .missing ? withEmptyAddress($0) : $0 })
    }

    /// The event with `"request_ip":""` as its first member.
    static func withEmptyAddress(_ event: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var out = Array(#"{"request_ip":"""#.utf8)
        let rest = event.dropFirst().drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if rest.first != UInt8(ascii: "}") { out.append(UInt8(ascii: ",")) }
        out += event.dropFirst()
        return out[...]
    }
}

/// A group's identity: the write key and the stored address's bytes.
struct GroupKey: Hashable {
    var writeKey: String
    var address: ArraySlice<UInt8>
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
