import PixelSystem
import Synchronization

/// The threads of one worker process, serving connections on a listening
/// socket until told to stop.
///
/// A pool thread accepts connections itself and hands one to its handler
/// only once the whole request is there (`RequestGate`): a client that
/// stalls before its request is complete holds no thread. Until then a
/// connection is parked: the thread watches it (epoll, with the listening
/// socket) and closes it when it has not delivered its request within the
/// request timeout. A connection the web server keeps is parked again
/// between requests, for as long.
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

    /// One pool thread: accepts, waits for whole requests and hands them to
    /// `handler`, parking connections until then.
    private func loop(_ handler: ConnectionHandler) {
        let logger = handler.logger
        let gate = RequestGate(maxConnections: settings.maxThreads, maxQueryBytes: settings.maxQueryBytes)
        defer { gate.release() }
        guard var poller = Poller() else {
            logger.log(.error, "epoll_create1: \(SystemError.reason(ProcessControl.lastError))")
            return
        }
        // EPOLLEXCLUSIVE: a new connection wakes one waiting thread, not all.
        guard poller.watch(settings.listenFD, exclusive: true) else {
            logger.log(.error, "epoll_ctl: \(SystemError.reason(ProcessControl.lastError))")
            return
        }
        var parked: [Int32: Int64] = [:]  // connection → deadline (monotonic ms)
        defer { for fd in parked.keys { Socket.close(fd) } }

        func serve(_ fd: Int32) {
            acceptorTookConnection()
            defer { acceptorBack() }
            // The request is in, but a body larger than the gate's look may
            // still be arriving: no read of it waits past the timeout.
            Socket.setReceiveTimeout(fd, millis: settings.requestTimeoutMillis)
            if let kept = handler.serve(fd) { park(kept) }
        }
        func park(_ fd: Int32) {
            guard parked.count < RequestGate.maxParked, poller.watch(fd, exclusive: false) else {
                Socket.close(fd)
                return
            }
            parked[fd] = SystemClock.monotonicMillis() + settings.requestTimeoutMillis
        }
        func unpark(_ fd: Int32) {
            parked[fd] = nil
            poller.forget(fd)
        }
        func judge(_ fd: Int32, parked wasParked: Bool) {
            switch gate.check(fd) {
            case .incomplete: if !wasParked { park(fd) }
            case .complete:
                if wasParked { unpark(fd) }
                serve(fd)
            case .done(let why):
                if wasParked { unpark(fd) }
                Socket.close(fd)
                if let why { logger.log(.warn, why) }
            }
        }

        while !shouldStop() {
            let now = SystemClock.monotonicMillis()
            let timeout = parked.values.min().map { Int32(clamping: max(0, $0 - now)) } ?? -1
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
                if parked[fd] != nil { judge(fd, parked: true) }
            }
            // Connections that did not deliver their request in time.
            let later = SystemClock.monotonicMillis()
            for (fd, deadline) in parked where deadline <= later {
                unpark(fd)
                Socket.close(fd)
            }
            guard listenerReady else { continue }
            switch Socket.accept(settings.listenFD) {
            case .nothingWaiting: continue  // another thread took it
            case .accepted(let connection):
                guard settings.peers.admits(connection) else {
                    Socket.close(connection.fd)
                    continue
                }
                judge(connection.fd, parked: false)
            case .failed(let code):
                if shouldStop() { break }
                if Socket.isShortage(code) {
                    // Out of descriptors or memory for now: the connections
                    // in hand will close, so wait and try again rather than
                    // leave this worker with one acceptor fewer.
                    logger.log(.error, "accept failed: \(SystemError.reason(code)); trying again")
                    SystemClock.nap(millis: 100)
                    continue
                }
                logger.log(.error, "accept failed: \(SystemError.reason(code)) (\(-code))")
                return
            }
        }
    }
}
