#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import Synchronization

/// Set by SIGTERM/SIGINT, read by the accept loop and the supervisor. One
/// atomic in Swift, not a C static: see shim.h.
private let stopFlag = Atomic<Bool>(false)

/// The clean way to stop a FastCGI loop (as fcgiwrap does): a handler
/// without SA_RESTART, so a blocked accept() or waitpid() returns EINTR,
/// plus `FCGX_ShutdownPending()`, so libfcgi stops accepting.
enum StopSignal {
    static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            // Lock-free atomic store and a flag write in libfcgi: both safe
            // in a signal handler.
            stopFlag.store(true, ordering: .relaxed)
            FCGX_ShutdownPending()
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        // A parent may have started us with these blocked (the mask survives
        // exec); then SIGTERM would never arrive.
        var stops = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGTERM)
        sigaddset(&stops, SIGINT)
        sigprocmask(SIG_UNBLOCK, &stops, nil)
        // A client that went away must not kill the worker.
        signal(SIGPIPE, SIG_IGN)
        // Nor a closed terminal or SSH session (`serve` or `drain --follow`
        // started by hand): settings are read at start, so there is
        // nothing to reload either.
        signal(SIGHUP, SIG_IGN)
    }

    static var requested: Bool { stopFlag.load(ordering: .relaxed) }
}
