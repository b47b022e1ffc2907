import PixelCore
import PixelSystem

/// `pixelgate serve`: opens the listening socket, pre-forks workers that
/// share it, replaces any that die, and stops them all on SIGTERM.
public struct Supervisor {
    public var listen: String
    public var workers: Int
    public var backlog: Int32
    /// Permissions of a unix socket, so the web server's user can connect.
    public var socketMode: UInt32
    /// The group a unix socket is given (the web server's), or nil for the
    /// process's own.
    public var socketGroup: UInt32?
    public var logger: Logger

    public init(listen: String, workers: Int, backlog: Int32, socketMode: UInt32, socketGroup: UInt32? = nil, logger: Logger) {
        self.listen = listen
        self.workers = workers
        self.backlog = backlog
        self.socketMode = socketMode
        self.socketGroup = socketGroup
        self.logger = logger
    }

    /// Runs until SIGTERM. `worker` is called in each child with the
    /// listening descriptor and must return when it should exit. Exits 2
    /// when `listen` is not an address pixelgate takes, 1 when it cannot
    /// listen there.
    public func run(worker: @escaping (Int32) -> Void) -> Int32 {
        Signals.installStopHandler()
        guard let address = ListenAddress(listen) else {
            logger.log(.error, "--listen '\(listen)' is not HOST:PORT (an IPv4 address or localhost, port 1-65535), [IPv6]:PORT or an absolute unix socket path")
            return 2
        }
        let fd: Int32, bound: String
        do {
            (fd, bound) = try ListenSocket.open(address.socketAddress, backlog: backlog, socketMode: socketMode, socketGroup: socketGroup)
        } catch {
            logger.log(.error, error.description)
            return 1
        }
        var socketIdentity: (UInt64, UInt64)?
        if case .unix(let path) = address, let st = try? Sys.lstatIfExists(path) {
            socketIdentity = (UInt64(st.st_dev), UInt64(st.st_ino))
        }
        switch address {
        case .tcp:
            // Any local account can connect to a TCP port and store hits
            // with any address and agent; a unix socket has permissions.
            logger.log(.info, "listening on \(bound) with \(workers) worker(s); on TCP any local user can send hits, a unix socket lets only its group")
        case .unix:
            logger.log(.info, "listening on \(bound) with \(workers) worker(s)")
            if socketMode & 0o002 != 0 {
                logger.log(.warn, "\(bound) has mode 0\(String(socketMode, radix: 8)): every local user may send hits; 0660 with --socket-group lets only the web server")
            }
        }
        let asked = supervise(WorkerProcesses(listenFD: fd, worker: worker))
        // Our socket only: another run may have taken the path since.
        if case .unix(let path) = address, let (dev, ino) = socketIdentity,
           let st = try? Sys.lstatIfExists(path), UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino {
            try? Sys.unlink(path)
        }
        guard asked else {
            logger.log(.error, "stopped: no worker could be started")
            return 1
        }
        logger.log(.info, "stopped")
        return 0
    }

    /// Keeps `workers` workers running until `shouldStop`, then stops them:
    /// SIGTERM, and SIGKILL for any still there after `graceMillis`. A
    /// worker that dies is replaced; when they die again and again, no
    /// faster than one a second. Returns false when it ended because no
    /// worker was left to run (every fork failed), not because it was asked.
    @discardableResult
    func supervise(_ processes: some WorkerSpawner, shouldStop: () -> Bool = { Signals.stopRequested },
                   graceMillis: Int64 = 10_000) -> Bool {
        var children: Set<Int32> = []
        var recentDeaths: [Int64] = []
        func spawn() {
            switch processes.spawn() {
            case .success(let pid): children.insert(pid)
            case .failure(let error): logger.log(.error, "fork: \(SystemError.reason(error.errno))")
            }
        }
        for _ in 0..<workers { spawn() }

        while !shouldStop() && !children.isEmpty {
            guard case .ended(let pid, let status) = processes.waitForChild(block: true) else { continue }  // EINTR: look at the stop flag
            children.remove(pid)
            if shouldStop() { break }
            logger.log(.warn, "worker \(pid) exited (status \(status)); starting another")
            // A worker that dies at once, again and again, must not spin.
            let now = SystemClock.monotonicMillis()
            recentDeaths = recentDeaths.filter { now - $0 < 10_000 } + [now]
            if recentDeaths.count > workers * 5 { processes.pause(millis: 1000) }
            spawn()
        }

        let asked = shouldStop()
        for pid in children { processes.terminate(pid) }
        // Workers finish the request in hand; one blocked in accept() may
        // miss the signal's window, so after a grace period it is killed.
        var deadline = SystemClock.monotonicMillis() + graceMillis
        while !children.isEmpty {
            switch processes.waitForChild(block: false) {
            case .ended(let pid, _):
                children.remove(pid)
                continue
            case .noChildren:
                return asked
            case .interrupted, .noneYet:
                break
            }
            if SystemClock.monotonicMillis() > deadline {
                for pid in children.sorted() {
                    logger.log(.error, "worker \(pid) did not stop within \(graceMillis / 1000) s of SIGTERM; killed")
                    processes.kill(pid)
                }
                deadline = Int64.max
            }
            processes.pause(millis: 20)
        }
        return asked
    }
}
