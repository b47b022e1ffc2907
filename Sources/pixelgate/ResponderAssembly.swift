import PixelCore
import PixelServer
import PixelSpool

/// The one place where settings become a responder: settings → sink (the
/// spool, or forwarding that falls back to it) → PixelHandler → Responder.
/// CGI, FastCGI on stdin and `serve` all build theirs here, so a request is
/// answered the same whichever way the web server runs pixelgate.
enum ResponderAssembly {
    /// A responder for one process (or one FastCGI thread: each opens its
    /// own spool descriptors, so flock locks exclude threads as they exclude
    /// processes), from settings read once per process.
    static func responder(_ configuration: PixelConfiguration, _ problems: [ConfigurationProblem], logger: Logger) -> Responder {
        // The operator's address lists, if any, make the classifier's
        // tables once per process; without them it is the compiled-in one.
        let classifier = configuration.operatorLists?.classifier ?? TrafficClassifier.standard
        return Responder(handler: PixelHandler(configuration: configuration, problems: problems, classifier: classifier),
                  sink: sink(configuration, logger: logger), logger: logger)
    }

    /// The spool, or forwarding to the data plane with the spool behind it.
    /// A forwarding set-up that fails still loses nothing: events go to the
    /// spool for the drain.
    static func sink(_ configuration: PixelConfiguration, logger: Logger) -> EventSink {
        var settings = configuration.spool
        settings.lockWaitMillis = configuration.requestTimeoutMillis
        let writer = SpoolWriter(directory: configuration.spoolDirectory, settings: settings)
        let spool = SpoolSink(writer: writer, log: { logger.log($0, $1) })
        guard configuration.sink == .forward, let url = configuration.dataPlaneURL else { return spool }
        do {
            let client = try DataPlaneClient(dataPlaneURL: url, timeoutMillis: configuration.forwardTimeoutMillis, gzip: configuration.gzip,
                                             listedWriteKeys: configuration.writeKeys, userAgent: PixelgateCommand.userAgent)
            return ForwardSink(client: client, spool: spool, log: { logger.log($0, $1) })
        } catch {
            logger.log(.error, "forwarding unavailable, spooling instead: \(error.detail)")
            return spool
        }
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

    /// The settings of a command that must not run on a fatal problem
    /// (`drain`, `requeue`): nil after logging it, for exit 78.
    static func loadRefusingFatalProblems(_ logger: Logger) -> (PixelConfiguration, [ConfigurationProblem])? {
        let (configuration, problems) = ConfigurationLoader.load()
        if let fatal = problems.first(where: \.isFatal) {
            logger.log(.error, "configuration: \(fatal)")
            return nil
        }
        return (configuration, problems)
    }
}
