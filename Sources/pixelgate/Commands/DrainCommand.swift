import PixelCore
import PixelServer
import PixelSpool
import PixelSystem

/// `pixelgate drain`: delivers the spool to the data plane, once (cron, a
/// timer) or as a service.
struct DrainCommand: Subcommand {
    static let name = "drain"
    static let synopses = ["drain --once [--max-seconds N]", "drain --follow [--interval SECONDS]"]
    static let summary = "seal the active spool file and deliver every sealed file to PIXELGATE_DATA_PLANE_URL: --once (exit codes below), or --follow as a service, a pass every interval until SIGTERM"
    static let details = HelpText.drainExitCodes

    static let once = Flag("--once", help: "one pass, for cron or a timer: seal the active file, deliver everything sealed, exit")
    static let follow = Flag("--follow", help: "as a service: a pass every interval, sealing files by age, until SIGTERM")
    static let interval = Option<Int>("--interval", "SECONDS", takes: "seconds, 1 to 3600",
                                      help: "with --follow, seconds between passes, 1 to 3600 (default 5)") { Int($0).flatMap { (1...3600).contains($0) ? $0 : nil } }
    static let maxSeconds = Option<Int64>("--max-seconds", "N", takes: "a number of seconds",
                                          help: "with --once, give up (exit 75, nothing lost) once the data plane has been unavailable for N seconds (default 60: cron runs it again)") { Int64($0).flatMap { $0 >= 0 ? $0 : nil } }
    static let options = [once.spec, follow.spec, interval.spec, maxSeconds.spec]

    enum Mode {
        case once(giveUpAfterMillis: Int64?)
        case follow(intervalSeconds: Int)
    }
    let mode: Mode

    init(_ arguments: ParsedArguments) throws(UsageError) {
        try Self.noArguments(arguments)
        switch (arguments[Self.once], arguments[Self.follow]) {
        case (true, false):
            if arguments[Self.interval] != nil { throw UsageError("--interval is for --follow; --once makes one pass") }
            mode = .once(giveUpAfterMillis: arguments[Self.maxSeconds].map { $0 * 1000 })
        case (false, true):
            if arguments[Self.maxSeconds] != nil { throw UsageError("--max-seconds is for --once; --follow keeps trying") }
            mode = .follow(intervalSeconds: arguments[Self.interval] ?? 5)
        case (true, true): throw UsageError("drain takes --once or --follow, not both")
        case (false, false): throw UsageError("drain needs --once (for cron or a timer) or --follow (as a service)")
        }
    }

    /// Requests on the wire at once, each on its own connection.
    static let parallelRequests = 4

    func run() -> Int32 {
        guard let (configuration, problems) = ResponderAssembly.loadRefusingFatalProblems(Logger()) else { return Exit.configuration }
        let logger = Logger().following(configuration)
        for problem in problems { logger.log(.warn, "configuration: \(problem)") }
        if let left = ConfigurationLoader.eventsLeftInFormerDefault(spoolDirectory: configuration.spoolDirectory) {
            logger.log(.warn, left)
        }
        guard let url = configuration.dataPlaneURL else {
            logger.log(.error, "drain needs PIXELGATE_DATA_PLANE_URL")
            return Exit.configuration
        }
        let clients: [DataPlaneClient]
        do {
            // One connection per request on the wire: events of one address
            // travel alone (SPEC §6), so requests are many and small, and
            // their round trips, not the drain's work, set its pace.
            clients = try (0..<DrainCommand.parallelRequests).map { _ throws(SinkError) in
                try DataPlaneClient(dataPlaneURL: url, timeoutMillis: 10_000, gzip: configuration.gzip,
                                    listedWriteKeys: configuration.writeKeys, userAgent: PixelgateCommand.userAgent)
            }
        } catch {
            logger.log(.error, "drain: \(error.detail)")
            return Exit.configuration
        }
        let client = clients[0]
        let parallel: [DataPlane] = Array(clients.dropFirst())
        var settings = DrainSettings()
        settings.maxBatchBytes = configuration.batchBytes
        settings.dataPlaneName = URLRedaction.redacted(url)
        let writer = SpoolWriter(directory: configuration.spoolDirectory, settings: configuration.spool)
        switch mode {
        case .once(let giveUpAfterMillis):
            if let giveUpAfterMillis { settings.giveUpAfterMillis = giveUpAfterMillis }
            return Self.once(writer: writer, client: client, parallel: parallel, settings: settings, logger: logger)
        case .follow(let intervalSeconds):
            return Self.follow(every: intervalSeconds, writer: writer, client: client, parallel: parallel, settings: settings, logger: logger,
                               starting: "draining \(configuration.spoolDirectory) to \(URLRedaction.redacted(url)) every \(intervalSeconds) s")
        }
    }

    /// One pass over everything waiting, the active file sealed first.
    static func once(writer: SpoolWriter, client: DataPlaneClient, parallel: [DataPlane], settings: DrainSettings, logger: Logger) -> Int32 {
        var settings = settings
        let onTerminal = isTerminal(2)
        if onTerminal, let backlog = try? SpoolStatus.backlog(writer.layout, nowMillis: SystemClock.nowMillis()) {
            // On a terminal: how far through the backlog, after each batch.
            settings.onBatch = { report in
                printError("\rdrain: \(report.delivered + report.rejected) of \(backlog.events) events, \(report.deliveredBytes / 1024) of \(backlog.bytes / 1024) KiB   ")
            }
        }
        let report = SpoolDrain(writer: writer, client: client, parallelClients: parallel, settings: settings,
                                log: { logger.log($0, $1) }).runOnce()
        if onTerminal { printError("\n") }
        if report.busy && report.stop == nil {
            logger.log(.info, "another drain is at work on \(writer.layout.directory): nothing to do")
            return Exit.ok
        }
        if let stop = report.stop {
            logger.log(.error, summary(report) + "; stopped: \(stop.description)")
            return Exit.of(report.stop)
        }
        // Every event refused is not a drain that went well: most often a
        // destination or a tracking plan refusing them all.
        if report.delivered == 0 && report.rejected > 0 {
            logger.log(.warn, summary(report) + "; every event was refused: the log's 'refused' lines and rejected/upstream.ndjson say why, "
                + "and 'pixelgate requeue' sends them again once it is fixed")
            return Exit.allRefused
        }
        logger.log(.info, summary(report))
        return Exit.ok
    }

    /// A pass every interval, each sealing what is due by age, until
    /// SIGTERM; a pass that meets a down data plane just ends early.
    /// `starting` is logged once SIGTERM is handled, so whoever waits for
    /// that line may stop the drain cleanly from then on.
    static func follow(every intervalSeconds: Int, writer: SpoolWriter, client: DataPlaneClient, parallel: [DataPlane],
                       settings: DrainSettings, logger: Logger, starting: String) -> Int32 {
        var settings = settings
        StopRequest.install()
        settings.shouldStop = { StopRequest.requested }
        settings.giveUpAfterMillis = Int64(intervalSeconds) * 1000 * 6
        let drain = SpoolDrain(writer: writer, client: client, parallelClients: parallel, settings: settings, log: { logger.log($0, $1) })
        logger.log(.info, starting)
        while !StopRequest.requested {
            let report = drain.runOnce(forceSeal: false)
            if report.delivered + report.rejected + report.setAside > 0 || (report.stop != nil && report.stop != .stopped) {
                logger.log(report.stop == nil ? .info : .warn, summary(report) + (report.stop.map { "; stopped: \($0.description)" } ?? ""))
            }
            // In tenths of a second, so SIGTERM is answered promptly.
            var waited = 0
            while waited < intervalSeconds * 10 && !StopRequest.requested {
                idle(milliseconds: 100)
                waited += 1
            }
        }
        logger.log(.info, "drain stopped")
        return Exit.ok
    }

    static func summary(_ report: DrainReport) -> String {
        "drained \(report.files) file(s): \(report.delivered) events delivered in \(report.batches) batch(es) (\(report.deliveredBytes) bytes), \(report.rejected) refused and kept in rejected/, \(report.setAside) unreadable set aside"
    }
}
