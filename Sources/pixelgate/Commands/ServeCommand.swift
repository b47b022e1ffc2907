import PixelCore
import PixelServer
import PixelSystem

/// `pixelgate serve`: its own pre-forking FastCGI daemon, for web servers
/// that connect to one (nginx fastcgi_pass, Apache mod_proxy_fcgi).
struct ServeCommand: Subcommand {
    static let name = "serve"
    static let synopses = ["serve --listen ADDRESS [--workers N] [--threads N] [--backlog N] [--socket-mode MODE] [--socket-group GROUP]"]
    static let summary = "a FastCGI daemon for nginx fastcgi_pass or Apache mod_proxy_fcgi; ADDRESS is HOST:PORT or /path/to.sock"
    static let details = """
    Workers share one socket; one that dies is replaced, and on SIGTERM each
    finishes the request in hand. A setting that is wrong does not stop it:
    hits are answered 500 and the log says why (pixelgate check tells first).

    Exit codes:
      0   stopped by SIGTERM or SIGINT
      1   cannot listen on ADDRESS (in use, permission)
      2   usage: a wrong option
    """

    static let listen = Option<String>("--listen", "ADDRESS",
                                       help: "HOST:PORT (an IPv4 address or localhost), [IPv6]:PORT, or an absolute unix socket path; required",
                                       missingValue: missingListen) { text in
        if text.isEmpty { return .failure(UsageError(missingListen)) }
        guard ListenAddress(text) != nil else {
            return .failure(UsageError("--listen '\(text)' is not HOST:PORT (an IPv4 address or localhost, port 1-65535), [IPv6]:PORT or an absolute unix socket path"))
        }
        return .success(text)
    }
    static let missingListen = "serve needs --listen HOST:PORT or --listen /path/to.sock"
    static let workers = Option<Int>("--workers", "N", takes: "a number from 1 to 256",
                                     help: "worker processes, 1 to 256 (default 2)") { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
    static let threads = Option<Int>("--threads", "N", takes: "a number from 1 to 256",
                                     help: "connections each worker serves at once, starting threads as connections arrive, 1 to 256 (default 2; raise it for nginx fastcgi_keep_conn with a keepalive pool)") {
        Int($0).flatMap { (1...256).contains($0) ? $0 : nil }
    }
    static let backlog = Option<Int32>("--backlog", "N", takes: "a positive number",
                                       help: "the listening socket's queue of connections not yet accepted (default 1024)") { Int32($0).flatMap { $0 >= 1 ? $0 : nil } }
    static let socketMode = Option<UInt32>("--socket-mode", "MODE", takes: "an octal mode such as 0660",
                                           help: "a unix socket's permissions, in octal (default 0660)") { UInt32($0, radix: 8).flatMap { $0 <= 0o777 ? $0 : nil } }
    static let socketGroup = Option<UInt32>("--socket-group", "GROUP", takes: "a group on this system",
                                            help: "the group a unix socket is given, the web server's (www-data); pixelgate must be a member (default: its own)") {
        Groups.id(of: $0)
    }
    static let options = [listen.spec, workers.spec, threads.spec, backlog.spec, socketMode.spec, socketGroup.spec]

    let address: String
    let workers: Int
    /// Two threads a worker by default: one serves while the other takes
    /// the next connection (a stalled client holds neither: a request
    /// reaches a thread only once it is all there). More do not serve more:
    /// a connection is closed as soon as it is answered, so a thread never
    /// waits on nginx, and at 2 workers four threads a worker lost a quarter
    /// of the throughput to spool lock contention (BENCHMARKS.md b).
    let threads: Int
    let backlog: Int32
    let socketMode: UInt32
    let socketGroup: UInt32?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        try Self.noArguments(arguments)
        guard let address = arguments[Self.listen] else { throw UsageError(Self.missingListen) }
        self.address = address
        workers = arguments[Self.workers] ?? 2
        threads = arguments[Self.threads] ?? 2
        backlog = arguments[Self.backlog] ?? 1024
        socketMode = arguments[Self.socketMode] ?? 0o660
        socketGroup = arguments[Self.socketGroup]
    }

    func run() -> Int32 {
        let (configuration, problems) = ResponderAssembly.loadLoggingProblems(Logger())
        let logger = Logger().following(configuration)
        let supervisor = Supervisor(listen: address, workers: workers, backlog: backlog, socketMode: socketMode, socketGroup: socketGroup, logger: logger)
        let threads = threads
        return supervisor.run { fd in
            // Each worker opens its own spool descriptors: flock locks belong
            // to an open file, so sharing one across fork would not exclude.
            FastCGITransport.serve(listenFD: fd, maxThreads: threads, requestTimeoutMillis: configuration.requestTimeoutMillis,
                                   maxQueryBytes: configuration.limits.maxQueryBytes) {
                ResponderAssembly.responder(configuration, problems, logger: logger)
            }
        }
    }
}
