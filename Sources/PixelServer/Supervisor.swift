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

    var isUnixSocket: Bool { listen.hasPrefix("/") || listen.hasPrefix(".") }

    /// Runs until SIGTERM. `worker` is called in each child with the
    /// listening descriptor and must return when it should exit.
    public func run(worker: (Int32) -> Void) -> Int32 {
        FastCGITransport.installStopHandler()
        if isUnixSocket { unlink(listen) }  // a stale socket from a killed run
        let fd = FastCGITransport.openSocket(isUnixSocket ? listen : normalizedTCP(listen), backlog: backlog)
        guard fd >= 0 else {
            logger.log(.error, "cannot listen on \(listen): \(String(cString: strerror(errno)))")
            return 1
        }
        if isUnixSocket && chmod(listen, socketMode) != 0 {
            logger.log(.error, "chmod \(listen): \(String(cString: strerror(errno)))")
            return 1
        }
        logger.log(.info, "listening on \(listen) with \(workers) worker(s)")

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
        if isUnixSocket { unlink(listen) }
        logger.log(.info, "stopped")
        return 0
    }

    /// libfcgi wants `host:port` or `:port`; accept `localhost:9000` too.
    func normalizedTCP(_ address: String) -> String {
        address.hasPrefix("localhost:") ? "127.0.0.1" + address.dropFirst("localhost".count) : address
    }
}
