#if canImport(Glibc)
import Glibc
#endif

/// A thread started by `Threads.start`, to interrupt or join.
public struct ThreadHandle: @unchecked Sendable {
    let pthread: pthread_t
}

/// POSIX threads: starting, interrupting and joining them.
public enum Threads {
    /// Starts a thread running `run`; nil when the system refuses one
    /// (errno says why). The corresponding C function is `pthread_create(3)`.
    /// (Outside any generic context: Swift 6.3's region analysis crashes on
    /// a C callback literal inside a generic type.)
    public static func start(_ run: @escaping @Sendable () -> Void) -> ThreadHandle? {
        let context = Unmanaged.passRetained(ThreadBody(run)).toOpaque()
        var handle = pthread_t()
        let created = pthread_create(&handle, nil, { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        if created == 0 { return ThreadHandle(pthread: handle) }
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        errno = created
        return nil
    }

    /// Sends the thread the wake-up signal (`Signals.installWakeUp`), so
    /// that the call it is blocked in returns EINTR. The corresponding C
    /// function is `pthread_kill(3)`.
    public static func interrupt(_ thread: ThreadHandle) {
        _ = pthread_kill(thread.pthread, Signals.wakeUp)
    }

    /// Waits for the thread to return. The corresponding C function is
    /// `pthread_join(3)`.
    public static func join(_ thread: ThreadHandle) {
        _ = pthread_join(thread.pthread, nil)
    }
}

/// A thread's body, passed through pthread_create's context pointer.
private final class ThreadBody: @unchecked Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
