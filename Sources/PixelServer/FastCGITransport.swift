#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelCore
import PixelSpool
import Synchronization

/// FastCGI through libfcgi: accepts requests on a listening socket and
/// answers them one at a time until SIGTERM.
public enum FastCGITransport {
    /// Whether this process was started as plain CGI: stdin is not a
    /// listening socket. `FCGX_IsCGI` asks the same of `getpeername(2)`
    /// (ENOTCONN: a listening socket), but only after `FCGX_Init`, whose
    /// signal set-up a CGI hit does not need; so a CGI start asks first,
    /// and FastCGI goes on to libfcgi's own answer.
    public static func isCGI() -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(0, $0, &length) }
        }
        if rc == 0 || errno != ENOTCONN { return true }
        return FCGX_IsCGI() != 0
    }

    /// Installs the SIGTERM/SIGINT handler (no SA_RESTART) and ignores SIGPIPE.
    public static func installStopHandler() { StopSignal.install() }

    public static var stopRequested: Bool { StopSignal.requested }

    /// Serves requests arriving on `listenFD` (0 when the web server or
    /// spawn-fcgi handed pixelgate the socket on stdin) until SIGTERM, on up
    /// to `maxThreads` threads, each with its own responder
    /// (its own spool descriptors, so flock locks exclude threads exactly as
    /// they exclude processes). A thread holds one FastCGI connection at a
    /// time; with nginx's `fastcgi_keep_conn on` it keeps it between
    /// requests. So that no connection waits behind another, a new thread
    /// starts whenever the last thread waiting for a new connection takes
    /// one, up to `maxThreads`; threads are not retired.
    ///
    /// Stopping: SIGTERM/SIGINT reach only the calling thread (the others
    /// block them); it then interrupts every thread's accept, read or poll
    /// with SIGUSR2 until each has answered the request in hand and returned.
    public static func serve(listenFD: Int32, maxThreads: Int, requestTimeoutMillis: Int64 = 5000, maxQueryBytes: Int = 16 * 1024,
                             makeResponder: @escaping @Sendable () -> Responder) {
        guard FCGX_Init() == 0 else {
            makeResponder().logger.log(.error, "FCGX_Init failed")
            return
        }
        var wake = sigaction()
        wake.__sigaction_handler.sa_handler = { _ in }  // only to interrupt a blocked call
        sigemptyset(&wake.sa_mask)
        wake.sa_flags = 0
        sigaction(SIGUSR2, &wake, nil)

        var stops = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGTERM)
        sigaddset(&stops, SIGINT)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &stops, &previous)  // inherited by the threads

        // Threads wait in epoll, several per socket: accept must not block
        // when another took the connection. (The flag is the socket's, shared
        // by every worker of this server, all of which serve through pools.)
        _ = fcntl(listenFD, F_SETFL, fcntl(listenFD, F_GETFL) | O_NONBLOCK)
        let pool = ThreadPool(listenFD: listenFD, maxThreads: maxThreads, requestTimeoutMillis: requestTimeoutMillis,
                              maxQueryBytes: maxQueryBytes, makeResponder: makeResponder)
        pool.spawn()
        // Wait for SIGTERM/SIGINT with them blocked except inside sigsuspend,
        // so one arriving between the check and the wait is not missed.
        var waitMask = previous
        sigdelset(&waitMask, SIGTERM)
        sigdelset(&waitMask, SIGINT)
        while !stopRequested && pool.running > 0 { sigsuspend(&waitMask) }
        // A thread may be about to block when a wake-up lands, so keep waking
        // until every thread has returned.
        while pool.running > 0 {
            pool.wakeAll()
            usleep(20_000)
        }
        pool.joinAll()
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }

    /// One pool thread: accepts, waits for whole requests and answers them,
    /// and tells the pool when to start another thread.
    ///
    /// A pool thread accepts connections itself and gives one to libfcgi
    /// only once its whole request is there (`RequestGate`): FCGX_Accept_r
    /// would accept and then read the request in one call, so a client that
    /// stalls before its request is complete would hold the thread. Until
    /// then a connection is parked: the thread watches it (epoll, with the
    /// listening socket) and closes it when it has not delivered its
    /// request within the request timeout. A connection the web server
    /// keeps is parked again between requests, for as long. The request's
    /// listening socket is -1, so libfcgi never accepts on its own.
    fileprivate static func poolLoop(_ pool: ThreadPool, responder: Responder) {
        var request = FCGX_Request()
        guard FCGX_InitRequest(&request, -1, 0) == 0 else {
            responder.logger.log(.error, "FCGX_InitRequest failed")
            return
        }
        defer { FCGX_Free(&request, 1) }
        let gate = RequestGate(maxConnections: pool.maxThreads, maxQueryBytes: pool.maxQueryBytes)
        defer { gate.release() }
        let watcher = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard watcher >= 0 else {
            responder.logger.log(.error, "epoll_create1: \(String(cString: strerror(errno)))")
            return
        }
        defer { close(watcher) }
        // EPOLLEXCLUSIVE: a new connection wakes one waiting thread, not all.
        guard watch(watcher, pool.listenFD, exclusive: true) else {
            responder.logger.log(.error, "epoll_ctl: \(String(cString: strerror(errno)))")
            return
        }
        var parked: [Int32: Int64] = [:]  // connection → deadline (monotonic ms)
        defer { for fd in parked.keys { close(fd) } }
        var events = [epoll_event](repeating: epoll_event(), count: 32)

        /// Serves a connection whose request is all there; parks it again
        /// if the web server keeps it.
        func serve(_ fd: Int32) {
            pool.acceptorTookConnection()
            defer { pool.acceptorBack() }
            // The request is in, but a body larger than the gate's look may
            // still be arriving: no read of it waits past the timeout.
            var limit = timeval(tv_sec: Int(pool.requestTimeoutMillis / 1000), tv_usec: Int(pool.requestTimeoutMillis % 1000) * 1000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            request.ipcFd = fd
            // FCGX_Accept_r first finishes the previous request, closing the
            // connection unless told to keep it: this one is new.
            request.keepConnection = 1
            if FCGX_Accept_r(&request) < 0 {
                request.ipcFd = -1  // libfcgi closed it: it broke mid-request
                return
            }
            answer(&request, responder)
            finish(&request)
            if request.ipcFd >= 0 {
                // Kept by the web server: wait for its next request, parked.
                let kept = request.ipcFd
                request.ipcFd = -1
                park(kept)
            }
        }
        func park(_ fd: Int32) {
            guard parked.count < RequestGate.maxParked, watch(watcher, fd, exclusive: false) else {
                close(fd)
                return
            }
            parked[fd] = monotonicMillis() + pool.requestTimeoutMillis
        }
        func unpark(_ fd: Int32) {
            parked[fd] = nil
            epoll_ctl(watcher, EPOLL_CTL_DEL, fd, nil)
        }

        while !stopRequested {
            let now = monotonicMillis()
            let nearest = parked.values.min()
            let timeout = nearest.map { Int32(clamping: max(0, $0 - now)) } ?? -1
            let n = epoll_wait(watcher, &events, Int32(events.count), timeout)
            if n < 0 {
                if errno == EINTR { continue }
                responder.logger.log(.error, "epoll_wait: \(String(cString: strerror(errno)))")
                break
            }
            var listenerReady = false
            for event in events[0..<Int(n)] {
                let fd = event.data.fd
                if fd == pool.listenFD { listenerReady = true; continue }
                guard parked[fd] != nil else { continue }
                switch gate.check(fd) {
                case .incomplete: continue
                case .complete:
                    unpark(fd)
                    serve(fd)
                case .done(let why):
                    unpark(fd)
                    close(fd)
                    if let why { responder.logger.log(.warn, why) }
                }
            }
            // Connections that did not deliver their request in time.
            let later = monotonicMillis()
            for (fd, deadline) in parked where deadline <= later {
                unpark(fd)
                close(fd)
            }
            guard listenerReady else { continue }
            let fd = acceptConnection(pool.listenFD, allowed: pool.allowedPeers)
            if fd < 0 {
                if fd == -EAGAIN || fd == -EWOULDBLOCK { continue }  // another thread took it
                if !stopRequested && (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
                    // Out of descriptors or memory for now: the connections
                    // in hand will close, so wait and try again rather
                    // than leave this worker with one acceptor fewer.
                    responder.logger.log(.error, "accept failed: \(String(cString: strerror(-fd))); trying again")
                    usleep(100_000)
                    continue
                }
                if acceptShouldGoOn(fd, responder) { continue }
                break
            }
            switch gate.check(fd) {
            case .complete: serve(fd)
            case .incomplete: park(fd)
            case .done(let why):
                close(fd)
                if let why { responder.logger.log(.warn, why) }
            }
        }
    }

    /// Adds `fd` to `watcher` for input. The corresponding C function is
    /// `epoll_ctl(2)`.
    static func watch(_ watcher: Int32, _ fd: Int32, exclusive: Bool) -> Bool {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | (exclusive ? EPOLLEXCLUSIVE.rawValue : 0)
        event.data.fd = fd
        return epoll_ctl(watcher, EPOLL_CTL_ADD, fd, &event) == 0
    }

    static func monotonicMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
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
    static func finish(_ request: inout FCGX_Request) {
        if request.keepConnection == 0 && request.ipcFd >= 0 && inputIsAllRead(&request) {
            request.detached = 1
        }
        FCGX_Finish_r(&request)
    }

    /// Reads the request body to its end (empty for a GET; at most 64 KiB
    /// are read here, a longer one is left to libfcgi's close) and checks
    /// that no byte is waiting on the connection.
    static func inputIsAllRead(_ request: inout FCGX_Request) -> Bool {
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
        var byte: UInt8 = 0
        let n = recv(request.ipcFd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    }

    /// Accepts one connection as libfcgi's own accept does: TCP_NODELAY on
    /// TCP, and an IPv4 peer must be in `FCGI_WEB_SERVER_ADDRS` when that
    /// is set (others are closed unanswered). Returns the descriptor, or
    /// the negated errno of a failure that is not about one connection.
    static func acceptConnection(_ listenFD: Int32, allowed: [in_addr_t]?) -> Int32 {
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listenFD, $0, &length) }
            }
            if fd < 0 {
                // Network errors pending on a connection that is already
                // gone (accept(2), "Error handling"): take the next one.
                switch errno {
                case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH: continue
                default: return -errno
                }
            }
            guard address.ss_family == sa_family_t(AF_INET) || address.ss_family == sa_family_t(AF_INET6) else { return fd }
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            guard let allowed, address.ss_family == sa_family_t(AF_INET) else { return fd }
            let peer = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            }
            if allowed.contains(peer) { return fd }
            close(fd)
        }
    }

    /// `FCGI_WEB_SERVER_ADDRS` (comma-separated IPv4 addresses, as libfcgi
    /// reads it), or nil when unset or empty: any peer.
    static func allowedPeers() -> [in_addr_t]? {
        guard let raw = getenv("FCGI_WEB_SERVER_ADDRS"), raw.pointee != 0 else { return nil }
        return String(cString: raw).split(separator: ",").compactMap { entry in
            var address = in_addr()
            return inet_pton(AF_INET, String(entry), &address) == 1 ? address.s_addr : nil
        }
    }

    /// After accepting failed with `rc` (the negated errno, from
    /// FCGX_Accept_r or `acceptConnection`): whether to keep serving. A
    /// connection that failed before its request arrived is no reason to
    /// stop; a stop request or anything else is.
    static func acceptShouldGoOn(_ rc: Int32, _ responder: Responder) -> Bool {
        if stopRequested { return false }
        if rc == -Int32(EINTR) || rc == -Int32(ECONNABORTED) || rc == -Int32(EPROTO) { return true }
        responder.logger.log(.error, "accept failed: \(String(cString: strerror(-rc))) (\(rc))")
        return false
    }

    /// Reads the request's parameters, answers it and writes the answer.
    static func answer(_ request: inout FCGX_Request, _ responder: Responder) {
        // libfcgi frees the parameters at the next accept: copy them now.
        let envp = request.envp
        let parsed = PixelRequest(cgiVariable: { name in
            // A StaticString literal is NUL-terminated: a C string as it is.
            let value = FCGX_GetParam(UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), envp)
            guard let value else { return nil }
            return UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: strlen(value))
        })
        let bytes = responder.respond(to: parsed)
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                _ = FCGX_PutStr($0.baseAddress, Int32($0.count), request.out)
            }
        }
    }

    public static func fork() -> pid_t { pixelgate_fork() }

    /// In a worker: be sent SIGTERM when the supervisor dies.
    public static func terminateWithParent() { _ = pixelgate_terminate_with_parent() }
}

/// The threads of one worker process and the count of those waiting for a
/// new connection; when that count reaches zero another thread starts.
private final class ThreadPool: @unchecked Sendable {
    let listenFD: Int32
    let maxThreads: Int
    /// How long a connection may take to deliver its request (or wait,
    /// kept, for the next one) before it is closed.
    let requestTimeoutMillis: Int64
    /// The query limit, which sets how much a request's parameters may hold.
    let maxQueryBytes: Int
    let allowedPeers = FastCGITransport.allowedPeers()
    let makeResponder: @Sendable () -> Responder
    private let lock = PThreadLocked<State>(State())
    private let runningCount = Atomic<Int>(0)

    struct State {
        var threads: [pthread_t] = []
        var acceptors = 0
    }

    init(listenFD: Int32, maxThreads: Int, requestTimeoutMillis: Int64, maxQueryBytes: Int,
         makeResponder: @escaping @Sendable () -> Responder) {
        self.listenFD = listenFD
        self.maxThreads = maxThreads
        self.requestTimeoutMillis = requestTimeoutMillis
        self.maxQueryBytes = maxQueryBytes
        self.makeResponder = makeResponder
    }

    var running: Int { runningCount.load(ordering: .sequentiallyConsistent) }

    /// Starts a thread, counted as an acceptor, unless the pool is full.
    func spawn() {
        lock.withLock { state in
            guard state.threads.count < maxThreads, !FastCGITransport.stopRequested else { return }
            // Responders are made one at a time: libcurl's global set-up must
            // not run in two threads at once.
            let responder = makeResponder()
            runningCount.add(1, ordering: .sequentiallyConsistent)
            let handoff = Handoff(responder)
            let thread = startThread { [self] in
                FastCGITransport.poolLoop(self, responder: handoff.value)
                runningCount.subtract(1, ordering: .sequentiallyConsistent)
            }
            if let thread {
                state.threads.append(thread)
                state.acceptors += 1
            } else {
                runningCount.subtract(1, ordering: .sequentiallyConsistent)
                responder.logger.log(.error, "pthread_create: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// An acceptor took a connection; if none is left waiting, start one.
    func acceptorTookConnection() {
        let none = lock.withLock { state in
            state.acceptors -= 1
            return state.acceptors <= 0
        }
        if none { spawn() }
    }

    func acceptorBack() {
        lock.withLock { $0.acceptors += 1 }
    }

    func wakeAll() {
        lock.withLock { state in
            for thread in state.threads { pthread_kill(thread, SIGUSR2) }
        }
    }

    func joinAll() {
        let threads = lock.withLock { $0.threads }
        for thread in threads { pthread_join(thread, nil) }
    }
}

/// Hands a value made on one thread to the thread that alone uses it from
/// then on (a responder is used by one thread at a time).
private struct Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A value behind a pthread mutex. (Synchronization's `Mutex` hands a
/// contended lock over in the kernel (futex PI), where ThreadSanitizer
/// cannot see it, and reports the accesses it orders as races.)
final class PThreadLocked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
