#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelCore

/// FastCGI through libfcgi: accepts requests on a listening socket and
/// answers them one at a time until SIGTERM.
public enum FastCGITransport {
    /// Whether this process was started as plain CGI (stdin is not a
    /// listening socket). The corresponding C function is `FCGX_IsCGI`.
    public static func isCGI() -> Bool { FCGX_IsCGI() != 0 }

    /// Installs the SIGTERM/SIGINT handler (no SA_RESTART) and ignores SIGPIPE.
    public static func installStopHandler() { StopSignal.install() }

    public static var stopRequested: Bool { StopSignal.requested }

    /// Serves requests arriving on `listenFD` (0 when the web server handed
    /// us the socket on stdin). Returns after SIGTERM, once the request in
    /// hand is answered.
    public static func serve(listenFD: Int32, responder: Responder) {
        guard FCGX_Init() == 0 else {
            responder.logger.log(.error, "FCGX_Init failed")
            return
        }
        var request = FCGX_Request()
        guard FCGX_InitRequest(&request, listenFD, 0) == 0 else {
            responder.logger.log(.error, "FCGX_InitRequest failed")
            return
        }
        defer { FCGX_Free(&request, 1) }
        while !stopRequested {
            let rc = FCGX_Accept_r(&request)
            if rc < 0 {
                if stopRequested { break }
                // A connection that failed before its request arrived; libfcgi
                // returns the negated errno. Keep serving others.
                if rc == -Int32(EINTR) || rc == -Int32(ECONNABORTED) || rc == -Int32(EPROTO) { continue }
                responder.logger.log(.error, "FCGX_Accept_r failed: \(String(cString: strerror(-rc))) (\(rc))")
                break
            }
            // libfcgi frees the parameters at the next accept: copy them now.
            let envp = request.envp
            let parsed = PixelRequest(cgiVariable: { name in
                guard let value = FCGX_GetParam(name, envp) else { return nil }
                return Array(UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: strlen(value)))
            })
            let bytes = responder.respond(to: parsed)
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    _ = FCGX_PutStr($0.baseAddress, Int32($0.count), request.out)
                }
            }
            FCGX_Finish_r(&request)
        }
    }

    /// Opens a FastCGI listening socket: `HOST:PORT`, `:PORT`, or a unix
    /// socket path. The corresponding C function is `FCGX_OpenSocket`.
    public static func openSocket(_ address: String, backlog: Int32) -> Int32 {
        FCGX_OpenSocket(address, backlog)
    }

    public static func fork() -> pid_t { pixelgate_fork() }

    /// In a worker: be sent SIGTERM when the supervisor dies.
    public static func terminateWithParent() { _ = pixelgate_terminate_with_parent() }
}
