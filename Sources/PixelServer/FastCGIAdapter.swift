import CFastCGI
import PixelCore
import PixelSystem

/// libfcgi's side of one pool thread: reads a request from a connection the
/// pool hands over, answers it through the responder and ends it. The
/// `FCGX_Request` and its raw pointers stay in here; parameters are copied
/// into Swift values at once (libfcgi frees them at the next accept).
/// The only user of CFastCGI.
final class FastCGIAdapter: ConnectionHandler {
    let responder: Responder
    var logger: Logger { responder.logger }
    private var request = FCGX_Request()
    private let ready: Bool

    /// libfcgi must have been initialised (`FastCGIAdapter.initialise`).
    init(_ responder: Responder) {
        self.responder = responder
        // The request's listening socket is -1: libfcgi never accepts on
        // its own, the pool does.
        ready = FCGX_InitRequest(&request, -1, 0) == 0
        if !ready { responder.logger.log(.error, "FCGX_InitRequest failed") }
    }

    deinit {
        if ready { FCGX_Free(&request, 1) }
    }

    /// libfcgi's global set-up, once a process; false when it failed.
    static func initialise() -> Bool { FCGX_Init() == 0 }

    /// Whether this process was started as plain CGI: stdin is not a
    /// listening socket. `FCGX_IsCGI` asks the same of `getpeername(2)`, but
    /// only after `FCGX_Init`, whose signal set-up a CGI hit does not need;
    /// so a CGI start asks first, and FastCGI goes on to libfcgi's own answer.
    static func isCGI() -> Bool {
        if !Socket.isListening(0) { return true }
        return FCGX_IsCGI() != 0
    }

    func serve(_ fd: Int32) -> Int32? {
        guard ready else {
            Socket.close(fd)
            return nil
        }
        request.ipcFd = fd
        // FCGX_Accept_r first finishes the previous request, closing the
        // connection unless told to keep it: this one is new.
        request.keepConnection = 1
        if FCGX_Accept_r(&request) < 0 {
            request.ipcFd = -1  // libfcgi closed it: it broke mid-request
            return nil
        }
        answer()
        finish()
        guard request.ipcFd >= 0 else { return nil }
        // Kept by the web server: the pool waits for its next request.
        let kept = request.ipcFd
        request.ipcFd = -1
        return kept
    }

    /// Reads the request's parameters, answers it and writes the answer.
    private func answer() {
        let envp = request.envp
        let parsed = PixelRequest(cgiVariable: { name in
            // A StaticString literal is NUL-terminated: a C string as it is.
            let value = FCGX_GetParam(UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), envp)
            return value.map { CStrings.bytes($0) }
        })
        let bytes = responder.respond(to: parsed)
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                _ = FCGX_PutStr($0.baseAddress, Int32($0.count), request.out)
            }
        }
    }

    /// Ends a request: flushes the answer and, unless the web server keeps
    /// the connection, closes it.
    ///
    /// libfcgi closes a connection by half-closing it and then waiting
    /// (poll, up to LIBFCGI_OS_CLOSE_POLL_TIMEOUT) until the web server
    /// closes its side, reading whatever it still sends: closing a socket
    /// with unread input makes the kernel answer with a reset, which can
    /// cost the peer the answer. That wait holds the thread and costs a
    /// shutdown, a poll and a wake-up on every hit. When the request's input
    /// has been read to its end and nothing further is waiting on the
    /// socket, there is nothing to reset over (a web server sends nothing
    /// after a request on a connection it does not keep), so the connection
    /// is closed at once: `detached` makes libfcgi skip the half-close.
    private func finish() {
        if request.keepConnection == 0 && request.ipcFd >= 0 && inputIsAllRead() {
            request.detached = 1
        }
        FCGX_Finish_r(&request)
    }

    /// Reads the request body to its end (empty for a GET; at most 64 KiB
    /// are read here, a longer one is left to libfcgi's close) and checks
    /// that no byte is waiting on the connection.
    private func inputIsAllRead() -> Bool {
        guard let input = request.in else { return false }
        let chunk: Int32 = 4096
        var budget = 16
        let atEnd = withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(chunk)) { buffer in
            while budget > 0 {
                if FCGX_GetStr(buffer.baseAddress, chunk, input) < chunk { return FCGX_HasSeenEOF(input) != 0 }
                budget -= 1
            }
            return false
        }
        guard atEnd && FCGX_GetError(input) == 0 else { return false }
        return Socket.nothingWaiting(request.ipcFd)
    }
}
