#if canImport(Glibc)
import Glibc
#endif
import PixelCore
import PixelSpool

/// `pixelgate serve`: opens the listening socket, pre-forks workers that
/// share it, replaces any that die, and stops them all on SIGTERM.
public struct Supervisor {
    public var listen: String
    public var workers: Int
    public var backlog: Int32
    /// Permissions of a unix socket, so the web server's user can connect.
    public var socketMode: mode_t
    public var logger: Logger

    public init(listen: String, workers: Int, backlog: Int32, socketMode: mode_t, logger: Logger) {
        self.listen = listen
        self.workers = workers
        self.backlog = backlog
        self.socketMode = socketMode
        self.logger = logger
    }

    /// Runs until SIGTERM. `worker` is called in each child with the
    /// listening descriptor and must return when it should exit. Exits 2
    /// when `listen` is not an address pixelgate takes, 1 when it cannot
    /// listen there.
    public func run(worker: (Int32) -> Void) -> Int32 {
        FastCGITransport.installStopHandler()
        guard let address = ListenAddress(listen) else {
            logger.log(.error, "--listen '\(listen)' is not HOST:PORT (an IPv4 address or localhost, port 1-65535), [IPv6]:PORT or an absolute unix socket path")
            return 2
        }
        let fd: Int32, bound: String
        do {
            (fd, bound) = try ListenSocket.open(address, backlog: backlog, socketMode: socketMode)
        } catch {
            logger.log(.error, error.description)
            return 1
        }
        var socketIdentity: (UInt, UInt)?
        if case .unix(let path) = address {
            var st = stat()
            if lstat(path, &st) == 0 { socketIdentity = (UInt(st.st_dev), UInt(st.st_ino)) }
        }
        logger.log(.info, "listening on \(bound) with \(workers) worker(s)")

        var children: [pid_t: Int64] = [:]  // pid → start time
        var recentDeaths: [Int64] = []
        func spawn() -> Bool {
            let pid = FastCGITransport.fork()
            if pid == 0 {
                FastCGITransport.terminateWithParent()
                // The supervisor may have died between fork and prctl.
                if getppid() == 1 { exit(0) }
                worker(fd)
                exit(0)
            }
            if pid < 0 {
                logger.log(.error, "fork: \(String(cString: strerror(errno)))")
                return false
            }
            children[pid] = SystemClock.nowMillis()
            return true
        }
        for _ in 0..<workers { _ = spawn() }

        while !FastCGITransport.stopRequested && !children.isEmpty {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 { continue }  // EINTR: look at the stop flag
            children[pid] = nil
            if FastCGITransport.stopRequested { break }
            logger.log(.warn, "worker \(pid) exited (status \(status)); starting another")
            // A worker that dies at once, again and again, must not spin.
            let now = SystemClock.nowMillis()
            recentDeaths = recentDeaths.filter { now - $0 < 10_000 } + [now]
            if recentDeaths.count > workers * 5 { SystemClock.sleep(millis: 1000) }
            _ = spawn()
        }

        for pid in children.keys { kill(pid, SIGTERM) }
        // Workers finish the request in hand; one blocked in accept() may
        // miss the signal's window, so after a grace period it is killed.
        var deadline = SystemClock.nowMillis() + 10_000
        while !children.isEmpty {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { children[pid] = nil; continue }
            if pid < 0 && errno == ECHILD { break }
            if SystemClock.nowMillis() > deadline {
                for pid in children.keys {
                    logger.log(.error, "worker \(pid) did not stop within 10 s of SIGTERM; killed")
                    kill(pid, SIGKILL)
                }
                deadline = Int64.max
            }
            SystemClock.sleep(millis: 20)
        }
        // Our socket only: another run may have taken the path since.
        if case .unix(let path) = address, let (dev, ino) = socketIdentity {
            var st = stat()
            if lstat(path, &st) == 0 && UInt(st.st_dev) == dev && UInt(st.st_ino) == ino { unlink(path) }
        }
        logger.log(.info, "stopped")
        return 0
    }
}
