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
