import PixelCore
import PixelServer
import PixelSpool
import PixelSystem

enum PixelgateCommand {
    static let version = "0.1.0"

    static let usage = """
    pixelgate \(version): the RudderStack Pixel API (GET /pixel/v1/page, /pixel/v1/track)
    as one CGI/FastCGI executable.

    Usage:
      pixelgate                  as CGI (started by a web server), or as a FastCGI
                                 responder when stdin is a listening socket
                                 (mod_fcgid, spawn-fcgi, systemd socket activation)
      pixelgate serve --listen ADDRESS [--workers N] [--threads N] [--backlog N] [--socket-mode MODE]
                                 a FastCGI daemon for nginx fastcgi_pass or Apache
                                 mod_proxy_fcgi; ADDRESS is HOST:PORT or /path/to.sock;
                                 --threads N lets each worker serve up to N connections at
                                 once, starting threads as connections arrive (default 2;
                                 raise it for nginx fastcgi_keep_conn with a keepalive pool)
      pixelgate drain --follow [--interval SECONDS]
                                 the same as a service: a pass every interval until SIGTERM
      pixelgate drain --once [--max-seconds N]
                                 seal the active spool file and deliver every sealed
                                 file to PIXELGATE_DATA_PLANE_URL (exit codes below)
      pixelgate requeue          after fixing why the data plane refused events, move
                                 rejected/upstream.ndjson back for the next drain
      pixelgate sign URL         print URL signed for its write key's secret in
                                 PIXELGATE_SIGNING_KEYS (adds &sig=…, replacing any)
      pixelgate stats [--json]   the backlog waiting for the drain (files, events, bytes,
                                 oldest age) and what rejected/ holds
      pixelgate check            validate the configuration and the spool, print the
                                 effective settings; exits 1 when something is wrong
      pixelgate --help | --version

    Exit codes of drain (and requeue):
      0   every event was delivered, or refused by the data plane and kept in rejected/
      1   the spool could not be read or written (permissions, disk full); nothing lost
      2   usage: a wrong command or option
      75  the data plane stayed unavailable (network, 5xx, 429); nothing lost, run again
      78  configuration wrong: a setting, or the data plane answered a redirect, 404,
          or 401/403 for a key in PIXELGATE_WRITE_KEYS; nothing lost, fix it and run again

    Settings come from PIXELGATE_* environment variables and the NAME=value file
    named by PIXELGATE_CONFIG (the environment wins). See README.md.

    """

    static func run(_ arguments: [String]) -> Int32 {
        // A CGI request may carry argv (an "ISINDEX" query without '='):
        // when a web server started us, the arguments are not ours.
        if ConfigurationLoader.variable("GATEWAY_INTERFACE") != nil || arguments.isEmpty {
            return runResponder()
        }
        switch arguments[0] {
        case "serve": return serve(Array(arguments.dropFirst()))
        case "check": return check()
        case "drain": return drain(Array(arguments.dropFirst()))
        case "stats": return stats(Array(arguments.dropFirst()))
        case "sign": return sign(Array(arguments.dropFirst()))
        case "requeue": return requeue(Array(arguments.dropFirst()))
        case "--help", "-h", "help":
            printOut(usage)
            return 0
        case "--version", "version":
            printOut("pixelgate \(version)\n")
            return 0
        default:
            printError("pixelgate: unknown command '\(arguments[0])'\n\n" + usage)
            return 2
        }
    }

    /// A responder for one process, from settings read once per process.
    static func makeResponder(_ configuration: PixelConfiguration, _ problems: [ConfigurationProblem], logger: Logger) -> Responder {
        let writer = SpoolWriter(directory: configuration.spoolDirectory, settings: configuration.spool)
        let spool = SpoolSink(writer: writer, log: { logger.log($0, $1) })
        var sink: EventSink = spool
        if configuration.sink == .forward, let url = configuration.dataPlaneURL {
            do {
                let client = try DataPlaneClient(dataPlaneURL: url, timeoutMillis: configuration.forwardTimeoutMillis, gzip: configuration.gzip,
                                                 listedWriteKeys: configuration.writeKeys, userAgent: userAgent)
                sink = ForwardSink(client: client, spool: spool, log: { logger.log($0, $1) })
            } catch {
                // Still nothing lost: events go to the spool for the drain.
                logger.log(.error, "forwarding unavailable, spooling instead: \(error.detail)")
            }
        }
        return Responder(handler: PixelHandler(configuration: configuration, problems: problems), sink: sink, logger: logger)
    }

    /// How pixelgate names itself to the data plane.
    static let userAgent = "pixelgate/\(version)"

    /// Exit codes a cron wrapper or systemd can act on (sysexits.h's where
    /// one fits).
    enum Exit {
        static let ok: Int32 = 0
        static let localFailure: Int32 = 1
        static let usage: Int32 = 2
        static let unavailable: Int32 = 75  // EX_TEMPFAIL
        static let configuration: Int32 = 78  // EX_CONFIG

        static func of(_ stop: DrainStop?) -> Int32 {
            switch stop {
            case nil, .stopped?: return ok
            case .unavailable?: return unavailable
            case .misconfigured?: return configuration
            case .localFailure?: return localFailure
            }
        }
    }

    static func requeue(_ arguments: [String]) -> Int32 {
        guard arguments.isEmpty else { return usageError("requeue takes no arguments") }
        let logger = Logger()
        let (configuration, problems) = ConfigurationLoader.load()
        if let fatal = problems.first(where: \.isFatal) {
            logger.log(.error, "configuration: \(fatal)")
            return Exit.configuration
        }
        let writer = SpoolWriter(directory: configuration.spoolDirectory, settings: configuration.spool)
        do {
            guard let sealed = try writer.requeueRefused() else {
                printOut("requeue: no events refused by the data plane in \(writer.layout.rejectedDirectory)\n")
                return Exit.ok
            }
            let lines = (try? SpoolStatus.readFile(writer.layout.directory + "/" + sealed)) ?? []
            let count = lines.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            printOut("requeue: \(count) event(s) moved back to the spool as \(sealed); the next drain sends them\n")
            return Exit.ok
        } catch {
            logger.log(.error, "requeue: \(error)")
            return Exit.localFailure
        }
    }

    static func drain(_ arguments: [String]) -> Int32 {
        var settings = DrainSettings()
        var once = false
        var follow = false
        var intervalSeconds = 5
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--once": once = true
            case "--follow": follow = true
            case "--interval":
                i += 1
                guard i < arguments.count, let n = Int(arguments[i]), n >= 1, n <= 3600 else { return usageError("--interval takes seconds, 1 to 3600") }
                intervalSeconds = n
            case "--max-seconds":
                i += 1
                guard i < arguments.count, let n = Int64(arguments[i]), n >= 0 else { return usageError("--max-seconds takes a number of seconds") }
                settings.giveUpAfterMillis = n * 1000
            default: return usageError("unknown drain option '\(arguments[i])'")
            }
            i += 1
        }
        guard once != follow else { return usageError("drain needs --once (for cron or a timer) or --follow (as a service)") }
        let logger = Logger()
        let (configuration, problems) = ConfigurationLoader.load()
        if let fatal = problems.first(where: \.isFatal) {
            logger.log(.error, "configuration: \(fatal)")
            return Exit.configuration
        }
        for problem in problems { logger.log(.warn, "configuration: \(problem)") }
        if let left = ConfigurationLoader.eventsLeftInFormerDefault(spoolDirectory: configuration.spoolDirectory) {
            logger.log(.warn, left)
        }
        guard let url = configuration.dataPlaneURL else {
            logger.log(.error, "drain needs PIXELGATE_DATA_PLANE_URL")
            return Exit.configuration
        }
        let client: DataPlaneClient
        do {
            client = try DataPlaneClient(dataPlaneURL: url, timeoutMillis: 10_000, gzip: configuration.gzip,
                                         listedWriteKeys: configuration.writeKeys, userAgent: userAgent)
        } catch {
            logger.log(.error, "drain: \(error.detail)")
            return Exit.configuration
        }
        settings.maxBatchBytes = configuration.batchBytes
        let writer = SpoolWriter(directory: configuration.spoolDirectory, settings: configuration.spool)
        func summary(_ report: DrainReport) -> String {
            "drained \(report.files) file(s): \(report.delivered) events delivered in \(report.batches) batch(es) (\(report.deliveredBytes) bytes), \(report.rejected) refused and kept in rejected/, \(report.setAside) unreadable set aside"
        }
        if once {
            if StandardStream.error.isTerminal, let backlog = try? SpoolStatus.backlog(writer.layout, nowMillis: SystemClock.nowMillis()) {
                // On a terminal: how far through the backlog, after each batch.
                settings.onBatch = { report in
                    printError("\rdrain: \(report.delivered + report.rejected) of \(backlog.events) events, \(report.deliveredBytes / 1024) of \(backlog.bytes / 1024) KiB   ")
                }
            }
            let report = SpoolDrain(writer: writer, client: client, settings: settings, log: { logger.log($0, $1) }).runOnce()
            if StandardStream.error.isTerminal { printError("\n") }
            if report.busy {
                logger.log(.info, "another drain is at work on \(writer.layout.directory): nothing to do")
                return Exit.ok
            }
            if let stop = report.stop {
                logger.log(.error, summary(report) + "; stopped: \(stop.description)")
            } else {
                logger.log(.info, summary(report))
            }
            return Exit.of(report.stop)
        }
        // --follow: a pass every interval, each sealing what is due by age,
        // until SIGTERM; a pass that meets a down data plane just ends early.
        Signals.installStopHandler()
        settings.shouldStop = { Signals.stopRequested }
        settings.giveUpAfterMillis = Int64(intervalSeconds) * 1000 * 6
        let drain = SpoolDrain(writer: writer, client: client, settings: settings, log: { logger.log($0, $1) })
        logger.log(.info, "draining \(configuration.spoolDirectory) to \(URLRedaction.redacted(url)) every \(intervalSeconds) s")
        while !Signals.stopRequested {
            let report = drain.runOnce(forceSeal: false)
            if report.delivered + report.rejected + report.setAside > 0 || (report.stop != nil && report.stop != .stopped) {
                logger.log(report.stop == nil ? .info : .warn, summary(report) + (report.stop.map { "; stopped: \($0.description)" } ?? ""))
            }
            var waited = 0
            while waited < intervalSeconds * 10 && !Signals.stopRequested {
                SystemClock.nap(millis: 100)
                waited += 1
            }
        }
        logger.log(.info, "drain stopped")
        return 0
    }

    /// Reads the settings and logs what is wrong with them, for processes
    /// that serve many requests (a CGI process leaves that to the 500 path).
    static func loadLoggingProblems(_ logger: Logger) -> (PixelConfiguration, [ConfigurationProblem]) {
        let (configuration, problems) = ConfigurationLoader.load()
        for problem in problems {
            logger.log(problem.isFatal ? .error : .warn, "configuration: \(problem)")
        }
        return (configuration, problems)
    }

    /// No command: CGI or FastCGI-on-stdin, as `FCGX_IsCGI()` tells.
    static func runResponder() -> Int32 {
        let logger = Logger()
        if FastCGITransport.isCGI() {
            if ConfigurationLoader.variable("REQUEST_METHOD") == nil && ProcessControl.isTerminal(0) {
                printError(usage)
                return 2
            }
            let (configuration, problems) = ConfigurationLoader.load()
            CGITransport.serveOne(makeResponder(configuration, problems, logger: logger))
            return 0
        }
        Signals.installStopHandler()
        let (configuration, problems) = loadLoggingProblems(logger)
        // One thread, as libfcgi's own loop had, but behind the same gate as
        // `serve`: spawn-fcgi's TCP socket is open to every local user.
        FastCGITransport.serve(listenFD: 0, maxThreads: 1, requestTimeoutMillis: configuration.requestTimeoutMillis,
                               maxQueryBytes: configuration.limits.maxQueryBytes) {
            makeResponder(configuration, problems, logger: logger)
        }
        return 0
    }

    static func serve(_ arguments: [String]) -> Int32 {
        var listen: String?
        var workers = 2
        // Two threads a worker by default: one serves while the other
        // takes the next connection (a stalled client holds neither: a
        // request reaches a thread only once it is all there). More do
        // not serve more: a connection is closed as soon as it is answered,
        // so a thread never waits on nginx, and at 2 workers four threads a
        // worker lost a quarter of the throughput to spool lock contention
        // (BENCHMARKS.md b).
        var threads = 2
        var backlog: Int32 = 1024
        var socketMode: UInt32 = 0o660
        var i = 0
        func value() -> String? {
            i += 1
            return i < arguments.count ? arguments[i] : nil
        }
        while i < arguments.count {
            let arg = arguments[i]
            switch arg {
            case "--listen": listen = value()
            case "--workers":
                guard let v = value(), let n = Int(v), n >= 1, n <= 256 else { return usageError("--workers takes a number from 1 to 256") }
                workers = n
            case "--threads":
                guard let v = value(), let n = Int(v), n >= 1, n <= 256 else { return usageError("--threads takes a number from 1 to 256") }
                threads = n
            case "--backlog":
                guard let v = value(), let n = Int32(v), n >= 1 else { return usageError("--backlog takes a positive number") }
                backlog = n
            case "--socket-mode":
                guard let v = value(), let n = UInt32(v, radix: 8), n <= 0o777 else { return usageError("--socket-mode takes an octal mode such as 0660") }
                socketMode = n
            default:
                return usageError("unknown option '\(arg)'")
            }
            i += 1
        }
        guard let listen, !listen.isEmpty else { return usageError("serve needs --listen HOST:PORT or --listen /path/to.sock") }
        guard ListenAddress(listen) != nil else {
            return usageError("--listen '\(listen)' is not HOST:PORT (an IPv4 address or localhost, port 1-65535), [IPv6]:PORT or an absolute unix socket path")
        }
        let logger = Logger()
        let (configuration, problems) = loadLoggingProblems(logger)
        let supervisor = Supervisor(listen: listen, workers: workers, backlog: backlog, socketMode: socketMode, logger: logger)
        return supervisor.run { fd in
            // Each worker opens its own spool descriptors: flock locks belong
            // to an open file, so sharing one across fork would not exclude.
            FastCGITransport.serve(listenFD: fd, maxThreads: threads, requestTimeoutMillis: configuration.requestTimeoutMillis,
                                   maxQueryBytes: configuration.limits.maxQueryBytes) {
                makeResponder(configuration, problems, logger: logger)
            }
        }
    }

    static func check() -> Int32 {
        let (configuration, problems) = ConfigurationLoader.load()
        var ok = true
        var out = "pixelgate \(version) configuration\n"
        if let file = ConfigurationLoader.configFile() { out += "  config file: \(file)\n" }
        for (name, value) in configuration.effectiveSettings {
            let source = configuration.sources[name] ?? "default"
            out += "  \(name)=\(value)    (\(source))\n"
        }
        for problem in problems {
            out += "\(problem.isFatal ? "error" : "warning"): \(problem)\n"
            if problem.isFatal { ok = false }
        }
        if let left = ConfigurationLoader.eventsLeftInFormerDefault(spoolDirectory: configuration.spoolDirectory) {
            out += "warning: \(left)\n"
        }
        let layout = SpoolLayout(directory: configuration.spoolDirectory)
        do {
            let owner = try SpoolStatus.probeWritable(layout)
            let status = try SpoolStatus.inspect(layout)
            let sharing = owner.groupShared ? "shared with group \(owner.gid) (set-group-ID), files 0660" : "private to its owner, files 0600"
            out += "spool \(layout.directory): writable; owner uid \(owner.uid), \(sharing)\n"
            out += "spool \(layout.directory): active \(status.activeBytes) bytes, \(status.sealedFiles) sealed files (\(status.sealedBytes) bytes), rejected \(status.rejectedBytes) bytes\n"
        } catch {
            out += "error: spool \(layout.directory) is not usable: \(error)\n"
            ok = false
        }
        out += ok ? "ok\n" : "not ok: requests would be answered 500 or 503\n"
        printOut(out)
        return ok ? 0 : 1
    }

    static func usageError(_ message: String) -> Int32 {
        printError("pixelgate: \(message)\n")
        return 2
    }

    static func printOut(_ text: String) { StandardStream.output.write(text) }
    static func printError(_ text: String) { StandardStream.error.write(text) }
}
