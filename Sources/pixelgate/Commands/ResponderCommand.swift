import PixelCore
import PixelServer

/// `pixelgate` with no command, as a web server runs it: one CGI request
/// from the environment, or FastCGI requests when stdin is a listening
/// socket, as `FCGX_IsCGI()` tells.
struct ResponderCommand: CommandDescription {
    static let synopses = [""]
    static let summary = "as CGI (started by a web server), or as a FastCGI responder when stdin is a listening socket (mod_fcgid, spawn-fcgi, systemd socket activation)"

    func run() -> Int32 {
        let logger = Logger()
        if FastCGITransport.isCGI() {
            // Typed at a shell with no request: show how to use pixelgate.
            if ConfigurationLoader.variable("REQUEST_METHOD") == nil && isTerminal(0) {
                printError(PixelgateCommand.usage)
                return Exit.usage
            }
            let (configuration, problems) = ConfigurationLoader.load()
            // What a running site must be told of but not stopped by.
            for problem in problems where problem.failsCheck && !problem.isFatal {
                logger.log(.warn, "configuration: \(problem)")
            }
            CGITransport.serveOne(ResponderAssembly.responder(configuration, problems, logger: logger.following(configuration)))
            return Exit.ok
        }
        StopRequest.install()
        let (configuration, problems) = ResponderAssembly.loadLoggingProblems(logger)
        let configuredLogger = logger.following(configuration)
        // One thread, as libfcgi's own loop had, but behind the same gate as
        // `serve`: spawn-fcgi's TCP socket is open to every local user.
        FastCGITransport.serve(listenFD: 0, maxThreads: 1, requestTimeoutMillis: configuration.requestTimeoutMillis,
                               maxQueryBytes: configuration.limits.maxQueryBytes) {
            ResponderAssembly.responder(configuration, problems, logger: configuredLogger)
        }
        return Exit.ok
    }
}
