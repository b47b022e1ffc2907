import PixelSystem
import Synchronization

/// The threads of one worker process, serving connections on a listening
/// socket until told to stop.
///
/// A pool thread accepts connections itself and reads their bytes through
/// the door (`FastCGIRequestReader`), which hands the handler (libfcgi)
/// one whole, checked request at a time, pipelined ones in order: a client
/// that stalls before its request is complete holds no thread, and no
/// stream libfcgi cannot take reaches it. Until then a connection is
/// parked: the thread watches it (epoll, with the listening socket), reads
/// what arrives, and closes it when it has not delivered its request within
/// the request timeout. A connection the web server keeps is parked again
/// between requests, for as long. A thread parks at most `maxParked`
/// connections, so that the process's descriptors (`serve` raises their
/// limit to the hard one) do not run out.
///
/// So that no connection waits behind another, a new thread starts
/// whenever the last thread waiting for a new connection takes one, up to
/// `maxThreads`; threads are not retired.
///
/// Stopping: the stop signals reach only the thread in `run` (the others
/// block them); it then interrupts every thread's wait with
/// `Signals.wakeUp` until each has answered the request in hand and returned.
public final class ConnectionPool: @unchecked Sendable {
    public struct Settings: Sendable {
        public var listenFD: Int32
        public var maxThreads: Int
        /// How long a connection may take to deliver its request (or wait,
        /// kept, for the next one) before it is closed.
        public var requestTimeoutMillis: Int64
        /// The query limit, which sets how much a request's parameters may hold.
        public var maxQueryBytes: Int
        public var peers: PeerFilter

        public init(listenFD: Int32, maxThreads: Int, requestTimeoutMillis: Int64, maxQueryBytes: Int, peers: PeerFilter) {
            self.listenFD = listenFD
            self.maxThreads = maxThreads
            self.requestTimeoutMillis = requestTimeoutMillis
            self.maxQueryBytes = maxQueryBytes
            self.peers = peers
        }
    }

    let settings: Settings
    /// Bytes of half-sent requests one thread holds at most (32 MiB): past
    /// it, the oldest parked connection is closed.
    static let maxBufferedBytes = 32 * 1024 * 1024

    /// Connections one thread parks at most: the descriptors this process
    /// may open, less room for the spool, the log and libraries, shared
    /// among the threads; 1,024 at most.
    let maxParked: Int
    private let makeHandler: @Sendable () -> ConnectionHandler
    private let shouldStop: @Sendable () -> Bool
    private let lock = PThreadLocked<State>(State())
    private let runningCount = Atomic<Int>(0)

    private struct State {
        var threads: [ThreadHandle] = []
        var acceptors = 0
    }

    /// `makeHandler` is called on the thread that starts each pool thread,
    /// one at a time (libcurl's global set-up must not run in two threads
    /// at once). `shouldStop` is looked at between requests; by default a
    /// stop signal.
    public init(_ settings: Settings, shouldStop: @escaping @Sendable () -> Bool = { Signals.stopRequested },
                makeHandler: @escaping @Sendable () -> ConnectionHandler) {
        self.settings = settings
        self.shouldStop = shouldStop
        self.makeHandler = makeHandler
        let threads = max(1, settings.maxThreads)
        maxParked = max(4, min(1024, (Sys.descriptorLimit() - 64 - 16 * threads) / threads))
    }

    /// Threads serving now.
    public var running: Int { runningCount.load(ordering: .sequentiallyConsistent) }

    /// Serves until `shouldStop` and every thread has returned. The stop
    /// signals are blocked in the pool's threads, so they wake this one.
    public func run() {
        Signals.installWakeUp()
        let previous = Signals.blockStops()  // inherited by the threads
        // Threads wait in epoll, several per socket: accept must not block
        // when another took the connection. (The flag is the socket's,
        // shared by every worker of this server, all of which serve
        // through pools.)
        Socket.setNonBlocking(settings.listenFD)
        spawn()
        // Stop signals are let through only inside the wait, so one arriving
        // between the check and the wait is not missed.
        while !shouldStop() && running > 0 { Signals.waitForSignal(previous) }
        // A thread may be about to block when a wake-up lands, so keep waking
        // until every thread has returned.
        while running > 0 {
            wakeAll()
            SystemClock.nap(millis: 20)
        }
        joinAll()
        Signals.restore(previous)
    }

    /// Starts a thread, counted as an acceptor, unless the pool is full.
    private func spawn() {
        lock.withLock { state in
            guard state.threads.count < settings.maxThreads, !shouldStop() else { return }
            let handler = makeHandler()
            runningCount.add(1, ordering: .sequentiallyConsistent)
            let handoff = Handoff(handler)
            let thread = Threads.start { [self] in
                loop(handoff.value)
                runningCount.subtract(1, ordering: .sequentiallyConsistent)
            }
            if let thread {
                state.threads.append(thread)
                state.acceptors += 1
            } else {
                runningCount.subtract(1, ordering: .sequentiallyConsistent)
                handler.logger.log(.error, "pthread_create: \(SystemError.reason(ProcessControl.lastError))")
            }
        }
    }

    /// An acceptor took a connection; if none is left waiting, start one.
    private func acceptorTookConnection() {
        let none = lock.withLock { state in
            state.acceptors -= 1
            return state.acceptors <= 0
        }
        if none { spawn() }
    }

    private func acceptorBack() {
        lock.withLock { $0.acceptors += 1 }
    }

    private func wakeAll() {
        lock.withLock { state in
            for thread in state.threads { Threads.interrupt(thread) }
        }
    }

    private func joinAll() {
        let threads = lock.withLock { $0.threads }
        for thread in threads { Threads.join(thread) }
    }

    /// One pool thread: accepts, reads requests through the door and hands
    /// each whole one to `handler`, parking connections until then.
    private func loop(_ handler: ConnectionHandler) {
        let logger = handler.logger
        let door = FastCGIRequestReader(limits: .init(maxParamsBytes: FastCGIRequestReader.Limits.paramsBytes(maxQueryBytes: settings.maxQueryBytes)),
                                        maxConnections: settings.maxThreads)
        let maxBuffered = door.limits.maxRequestBytes + 1
        guard var poller = Poller() else {
            logger.log(.error, "epoll_create1: \(SystemError.reason(ProcessControl.lastError))")
            return
        }
        // EPOLLEXCLUSIVE: a new connection wakes one waiting thread, not all.
        guard poller.watch(settings.listenFD, exclusive: true) else {
            logger.log(.error, "epoll_ctl: \(SystemError.reason(ProcessControl.lastError))")
            return
        }
        /// A connection still delivering its request, or kept between
        /// requests: the bytes read so far (read, never peeked at, so a
        /// half-sent request does not wake this thread again until more
        /// arrive) and when it must be whole.
        struct Connection {
            var bytes: [UInt8] = []
            var deadline: Int64
        }
        var parked: [Int32: Connection] = [:]
        /// Bytes the parked connections hold, all told.
        var buffered = 0
        defer { for fd in parked.keys { Socket.close(fd) } }
        var warnings = RateLimitedLog(logger)

        func hangUp(_ fd: Int32) {
            if let gone = parked.removeValue(forKey: fd) {
                buffered -= gone.bytes.count
                poller.forget(fd)
            }
            Socket.close(fd)
        }
        func park(_ fd: Int32, _ connection: Connection) {
            var connection = connection
            // An empty buffer keeps no memory between a kept connection's requests.
            if connection.bytes.isEmpty { connection.bytes = [] }
            if let before = parked[fd] {
                buffered -= before.bytes.count
            } else {
                if parked.count >= maxParked { evictOldest("\(parked.count) connections wait for their requests on this thread") }
                guard poller.watch(fd, exclusive: false) else {
                    Socket.close(fd)
                    return
                }
            }
            parked[fd] = connection
            buffered += connection.bytes.count
            // Memory, like descriptors, is shared out: half-sent requests
            // may hold `maxBufferedBytes` a thread at most.
            while buffered > ConnectionPool.maxBufferedBytes && parked.count > 1 {
                evictOldest("half-sent requests hold over \(ConnectionPool.maxBufferedBytes / 1024 / 1024) MiB on this thread")
            }
        }
        /// Full: the connection that has waited longest makes room, so a
        /// flood of idle or half-sent connections cannot keep new ones (a
        /// web server's next hit) out.
        func evictOldest(_ why: String) {
            guard let oldest = parked.min(by: { $0.value.deadline < $1.value.deadline })?.key else { return }
            warnings.log("\(why): the oldest closed")
            hangUp(oldest)
        }
        /// Reads what `fd` has and answers every whole request in it, in
        /// order; parks it while a request is still arriving or the web
        /// server keeps it.
        func feed(_ fd: Int32, _ connection: Connection) {
            var connection = connection
            let room = max(1, maxBuffered - connection.bytes.count)
            if case .closed = Socket.receive(fd, appendingTo: &connection.bytes, limit: room) {
                hangUp(fd)
                return
            }
            // Answering holds this thread: another takes new connections
            // meanwhile. Every answer of this wake-up must be taken by the
            // peer within one request timeout, all told: a client that
            // pipelines and reads slowly holds the thread no longer.
            var busy = false
            defer { if busy { acceptorBack() } }
            let sendDeadline = SystemClock.monotonicMillis() + settings.requestTimeoutMillis
            func reply(_ answer: [UInt8]) -> Bool {
                if !busy {
                    busy = true
                    acceptorTookConnection()
                }
                return Socket.sendAll(fd, answer, deadlineMillis: sendDeadline)
            }
            while true {
                let outcome = connection.bytes.withUnsafeBytes { door.read($0) }
                switch outcome {
                case .needMore:
                    park(fd, connection)
                    return
                case .answered(let answer, let consumed):
                    connection.bytes.removeFirst(consumed)
                    guard answer.isEmpty || reply(answer) else { return hangUp(fd) }
                case .aborted(let answer, let consumed, let keep):
                    connection.bytes.removeFirst(consumed)
                    guard reply(answer), keep else { return hangUp(fd) }
                case .refused(let why, let answer):
                    if let answer { _ = reply(answer) }
                    warnings.log(why)
                    return hangUp(fd)
                case .request(let request, let consumed):
                    connection.bytes.removeFirst(consumed)
                    if !busy {
                        busy = true
                        acceptorTookConnection()
                    }
                    guard let answer = handler.answer(request.bytes) else {
                        warnings.log("a request of \(request.bytes.count) bytes could not be handed to libfcgi: connection closed")
                        return hangUp(fd)
                    }
                    guard reply(answer), request.keepConnection else { return hangUp(fd) }
                    // Kept: the next request (perhaps already here) within the timeout.
                    connection.deadline = SystemClock.monotonicMillis() + settings.requestTimeoutMillis
                }
            }
        }

        while !shouldStop() {
            let now = SystemClock.monotonicMillis()
            let timeout = parked.values.map(\.deadline).min().map { Int32(clamping: max(0, $0 - now)) } ?? -1
            let readyCount: Int
            do {
                readyCount = try poller.wait(timeoutMillis: timeout)
            } catch {
                logger.log(.error, error.description)
                break
            }
            var listenerReady = false
            for i in 0..<readyCount {
                let fd = poller.ready(i)
                if fd == settings.listenFD { listenerReady = true; continue }
                if let connection = parked[fd] { feed(fd, connection) }
            }
            // Connections that did not deliver their request in time.
            let later = SystemClock.monotonicMillis()
            for (fd, connection) in parked where connection.deadline <= later { hangUp(fd) }
            guard listenerReady else { continue }
            switch Socket.accept(settings.listenFD) {
            case .nothingWaiting: continue  // another thread took it
            case .accepted(let connection):
                guard settings.peers.admits(connection) else {
                    Socket.close(connection.fd)
                    continue
                }
                // Answers are sent without blocking, polled to the
                // request timeout (`reply`): no send timeout is set.
                feed(connection.fd, Connection(deadline: SystemClock.monotonicMillis() + settings.requestTimeoutMillis))
            case .failed(let code):
                if shouldStop() { break }
                if Socket.isShortage(code) {
                    // Out of descriptors or memory for now: the connections
                    // in hand will close, so wait and try again rather than
                    // leave this worker with one acceptor fewer.
                    warnings.log("accept failed: \(SystemError.reason(code)); trying again")
                    SystemClock.nap(millis: 100)
                    continue
                }
                logger.log(.error, "accept failed: \(SystemError.reason(code)) (\(-code))")
                return
            }
        }
    }
}

/// Warnings a client can cause, at most one a period (10 s), with how many
/// were left out: a flood of bad connections must not flood the log.
struct RateLimitedLog {
    let logger: Logger
    var periodMillis: Int64 = 10_000
    private var last: Int64 = .min
    private var skipped = 0

    init(_ logger: Logger) { self.logger = logger }

    mutating func log(_ message: String) {
        let now = SystemClock.monotonicMillis()
        guard last == .min || now - last >= periodMillis else {
            skipped += 1
            return
        }
        logger.log(.warn, skipped > 0 ? "\(message) (and \(skipped) more warnings since the last)" : message)
        last = now
        skipped = 0
    }
}
