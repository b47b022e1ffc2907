#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex. (Synchronization's `Mutex` hands a
/// contended lock over in the kernel (futex PI), where ThreadSanitizer
/// cannot see it, and reports the accesses it orders as races.)
public final class PThreadLocked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// A value behind a pthread mutex, with a condition variable to wait for
/// it to change: threads that hand work to each other.
public final class PThreadCondition<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Changes the value under the lock and wakes every waiter. The
    /// corresponding C function is `pthread_cond_broadcast(3)`.
    public func change<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return try body(&value)
    }

    /// Waits until `ready` says the value is ready, then runs `body` on it
    /// under the lock (waking the others when it returns). The
    /// corresponding C function is `pthread_cond_wait(3)`.
    public func wait<T>(until ready: (Value) -> Bool, then body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        while !ready(value) { pthread_cond_wait(condition, mutex) }
        return try body(&value)
    }
}
