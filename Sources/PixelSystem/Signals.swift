#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Set by SIGTERM/SIGINT, read by the serving loops, the supervisor and
/// `drain --follow`. One atomic in Swift, not a C static: see CSystem's shim.h.
private let stopFlag = Atomic<Bool>(false)

/// Signals: how a process is asked to stop, and how one thread wakes another.
///
/// Stopping is the clean way of a FastCGI loop (as fcgiwrap does it): a
/// handler without SA_RESTART, so a blocked accept(), epoll_wait() or
/// waitpid() returns EINTR and the loop looks at `stopRequested`.
public enum Signals {
    /// The signal `Threads.interrupt` sends: its handler does nothing, so
    /// that the call the thread is blocked in returns EINTR.
    public static let wakeUp = SIGUSR2

    /// Installs the SIGTERM/SIGINT handler (no SA_RESTART), unblocks both,
    /// and ignores SIGPIPE and SIGHUP.
    public static func installStopHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            // A lock-free atomic store: safe in a signal handler.
            stopFlag.store(true, ordering: .relaxed)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        // A parent may have started us with these blocked (the mask survives
        // exec); then SIGTERM would never arrive.
        var stops = stopSet()
        sigprocmask(SIG_UNBLOCK, &stops, nil)
        // A client that went away must not kill the worker.
        signal(SIGPIPE, SIG_IGN)
        // Nor a closed terminal or SSH session (`serve` or `drain --follow`
        // started by hand): settings are read at start, so there is
        // nothing to reload either.
        signal(SIGHUP, SIG_IGN)
    }

    /// Whether SIGTERM or SIGINT has arrived.
    public static var stopRequested: Bool { stopFlag.load(ordering: .relaxed) }

    /// Over a file-size limit (RLIMIT_FSIZE, as shared hosts set), write(2)
    /// must fail with EFBIG so the spool can take a partial line back and
    /// answer 503; by default SIGXFSZ would kill the process with no answer.
    public static func ignoreFileSizeLimitSignal() {
        signal(SIGXFSZ, SIG_IGN)
    }

    /// Installs the do-nothing handler of `wakeUp` (no SA_RESTART) and
    /// unblocks it in the calling thread, whose threads inherit its mask (a
    /// thread of a dispatch queue, say, starts with most signals blocked).
    public static func installWakeUp() {
        var wake = sigaction()
        wake.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&wake.sa_mask)
        wake.sa_flags = 0
        sigaction(wakeUp, &wake, nil)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, wakeUp)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// A thread's signal mask, as `blockStops` found it.
    public struct Mask: @unchecked Sendable {
        fileprivate var set: sigset_t
    }

    /// Blocks SIGTERM and SIGINT in the calling thread (and the threads it
    /// starts from now on); returns the mask before.
    public static func blockStops() -> Mask {
        var stops = stopSet()
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &stops, &previous)
        return Mask(set: previous)
    }

    /// Restores a mask `blockStops` returned.
    public static func restore(_ mask: Mask) {
        var set = mask.set
        pthread_sigmask(SIG_SETMASK, &set, nil)
    }

    /// Waits, with SIGTERM and SIGINT let through, for any signal; `mask`
    /// is the one `blockStops` returned. A stop arriving between a check of
    /// `stopRequested` and this wait is not missed: it stays pending until
    /// here. The corresponding C function is `sigsuspend(2)`.
    public static func waitForSignal(_ mask: Mask) {
        var waitMask = mask.set
        sigdelset(&waitMask, SIGTERM)
        sigdelset(&waitMask, SIGINT)
        sigdelset(&waitMask, wakeUp)
        sigsuspend(&waitMask)
    }

    private static func stopSet() -> sigset_t {
        var stops = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGTERM)
        sigaddset(&stops, SIGINT)
        return stops
    }
}
