import CFastCGI
import PixelCore
import PixelSystem

/// libfcgi's side of one pool thread. libfcgi never touches a web server's
/// connection: the pool's door (`FastCGIRequestReader`) reads that, and
/// hands over one whole, checked request at a time, which this adapter
/// writes into a socket pair of its own that libfcgi reads as its
/// connection (kept open: the door marks every request keep-connection).
/// libfcgi answers into the pair, and the answer's records go back to the
/// pool. So libfcgi only ever reads a stream it can take: no declared
/// length it has not been shown the bytes of, no record of another
/// request, no management record, no half-sent request to wait on.
///
/// The `FCGX_Request` and its raw pointers stay in here; parameters are
/// copied into Swift values at once (libfcgi frees them at the next
/// accept). The only user of CFastCGI.
final class FastCGIAdapter: ConnectionHandler {
    let responder: Responder
    var logger: Logger { responder.logger }
    private var request = FCGX_Request()
    private let ready: Bool
    /// The pair: the adapter writes requests into `ours` and reads answers
    /// from it; libfcgi's request reads and writes `theirs`.
    private var ours: Int32 = -1

    /// Room in the pair for the largest request the door lets through and
    /// any answer: the request is written whole before libfcgi reads it.
    static let pairBytes = 512 * 1024

    /// libfcgi must have been initialised (`FastCGIAdapter.initialise`).
    init(_ responder: Responder) {
        self.responder = responder
        // The request's listening socket is -1: libfcgi never accepts.
        ready = FCGX_InitRequest(&request, -1, 0) == 0
        if !ready { responder.logger.log(.error, "FCGX_InitRequest failed") }
    }

    deinit {
        closePair()
    }

    /// Closes both ends. `detached`: libfcgi closes its end at once rather
    /// than half-closing it and waiting for the peer (its careful close,
    /// for web servers; LIBFCGI_OS_CLOSE_POLL_TIMEOUT may make that wait
    /// for ever).
    private func closePair() {
        if ours >= 0 { Socket.close(ours) }
        ours = -1
        if ready && request.ipcFd >= 0 {
            request.detached = 1
            FCGX_Free(&request, 1)
        }
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

    /// A new pair, libfcgi's end as its connection (kept between requests).
    private func openPair() -> Bool {
        closePair()
        guard let (mine, libfcgis) = Socket.pair(bufferBytes: FastCGIAdapter.pairBytes) else {
            logger.log(.error, "socketpair: \(SystemError.reason(ProcessControl.lastError))")
            return false
        }
        ours = mine
        request.ipcFd = libfcgis
        request.keepConnection = 1
        return true
    }

    func answer(_ bytes: [UInt8]) -> [UInt8]? {
        guard ready, ours >= 0 || openPair() else { return nil }
        // Written whole at once, or not at all: libfcgi reads only after,
        // so a request the pair cannot hold must not block this thread.
        guard Socket.sendAll(ours, bytes, deadlineMillis: 0) else {
            _ = openPair()
            return nil
        }
        // With its connection open, libfcgi reads the request from it.
        guard FCGX_Accept_r(&request) >= 0, request.ipcFd >= 0 else {
            logger.log(.error, "libfcgi refused a request the door accepted")
            _ = openPair()
            return nil
        }
        respond()
        let drained = inputIsAllRead()
        FCGX_Finish_r(&request)
        var answer: [UInt8] = []
        if case .closed = Socket.receive(ours, appendingTo: &answer, limit: FastCGIAdapter.pairBytes) { answer = [] }
        // libfcgi closes its end on an error of its stream; a body not read
        // to its end would be read as the next request: start afresh.
        if request.ipcFd < 0 || !drained { _ = openPair() }
        return answer.isEmpty ? nil : answer
    }

    /// Reads the request's parameters, answers it and writes the answer.
    private func respond() {
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

    /// Reads the request body to its end (the door lets through at most
    /// 64 KiB of it, all already in the pair).
    private func inputIsAllRead() -> Bool {
        guard let input = request.in else { return false }
        let chunk: Int32 = 4096
        var budget = 17
        let atEnd = withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(chunk)) { buffer in
            while budget > 0 {
                if FCGX_GetStr(buffer.baseAddress, chunk, input) < chunk { return FCGX_HasSeenEOF(input) != 0 }
                budget -= 1
            }
            return false
        }
        return atEnd && FCGX_GetError(input) == 0
    }
}
