import PixelSystem

/// FastCGI: a pool of threads (`ConnectionPool`) taking connections on a
/// listening socket, each answering through libfcgi (`FastCGIAdapter`),
/// until SIGTERM.
public enum FastCGITransport {
    /// Whether this process was started as plain CGI: stdin is not a
    /// listening socket.
    public static func isCGI() -> Bool { FastCGIAdapter.isCGI() }

    /// Serves requests arriving on `listenFD` (0 when the web server or
    /// spawn-fcgi handed pixelgate the socket on stdin) until SIGTERM, on up
    /// to `maxThreads` threads, each with its own responder (its own spool
    /// descriptors, so flock locks exclude threads exactly as they exclude
    /// processes). With nginx's `fastcgi_keep_conn on` a thread keeps a
    /// connection between requests, parked until the next arrives.
    public static func serve(listenFD: Int32, maxThreads: Int, requestTimeoutMillis: Int64 = 5000, maxQueryBytes: Int = 16 * 1024,
                             makeResponder: @escaping @Sendable () -> Responder) {
        // Parked connections are descriptors: every one the hard limit allows.
        Sys.raiseDescriptorLimit()
        guard FastCGIAdapter.initialise() else {
            makeResponder().logger.log(.error, "FCGX_Init failed")
            return
        }
        let settings = ConnectionPool.Settings(listenFD: listenFD, maxThreads: maxThreads, requestTimeoutMillis: requestTimeoutMillis,
                                               maxQueryBytes: maxQueryBytes, peers: .fromEnvironment())
        ConnectionPool(settings) { FastCGIAdapter(makeResponder()) }.run()
    }
}
