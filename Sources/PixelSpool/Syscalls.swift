#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: what was attempted, on which path, and errno.
public struct SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32
    /// Set when the spool is refused as unsafe (SPEC §7a): what is wrong
    /// and how to fix it. Hits then answer 500, not 503: retrying will not
    /// help until the operator acts.
    public var unsafeBecause: String?

    public init(_ operation: String, _ path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// A spool refused as unsafe.
    public init(unsafe path: String, because reason: String) {
        self.init("refusing spool directory", path, errno: EPERM)
        unsafeBecause = reason
    }

    public var description: String {
        if let unsafeBecause { return "\(operation) \(path): \(unsafeBecause)" }
        return "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

// At file scope, where the names resolve to the functions rather than to
// the C structs of the same name.
private func cFlock(_ fd: Int32, _ operation: Int32) -> Int32 { flock(fd, operation) }
private func cStat(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }
private func cLstat(_ path: String, _ st: inout stat) -> Int32 { lstat(path, &st) }

/// Thin wrappers over the libc calls the spool makes: each retries `EINTR`
/// and turns -1 into a `SpoolError` naming the call and the path.
enum Sys {
    static func fail(_ op: String, _ path: String) -> SpoolError { SpoolError(op, path, errno: errno) }

    /// The corresponding C function is `open(2)`, never following a
    /// symbolic link in the last component (`O_NOFOLLOW`): nothing in a
    /// spool is read or written through a link someone planted there.
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o600) throws(SpoolError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC | O_NOFOLLOW, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail("open", path) }
        }
    }

    /// The corresponding C function is `close(2)`.
    static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// The corresponding C function is `flock(2)`.
    static func flock(_ fd: Int32, _ operation: Int32, _ path: String) throws(SpoolError) {
        while cFlock(fd, operation) != 0 {
            if errno != EINTR { throw fail("flock", path) }
        }
    }

    /// A non-blocking exclusive `flock(2)`: false when another holds it.
    static func tryLock(_ fd: Int32, _ path: String) throws(SpoolError) -> Bool {
        while cFlock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { return false }
            if errno != EINTR { throw fail("flock", path) }
        }
        return true
    }

    /// The corresponding C function is `fstat(2)`.
    static func fstat(_ fd: Int32, _ path: String) throws(SpoolError) -> stat {
        var st = stat()
        if Glibc.fstat(fd, &st) != 0 { throw fail("fstat", path) }
        return st
    }

    /// The corresponding C function is `stat(2)`; nil when the path does not exist.
    static func statIfExists(_ path: String) throws(SpoolError) -> stat? {
        var st = stat()
        if cStat(path, &st) == 0 { return st }
        if errno == ENOENT { return nil }
        throw fail("stat", path)
    }

    /// The corresponding C function is `lstat(2)` (a link is not followed);
    /// nil when nothing is there.
    static func lstatIfExists(_ path: String) throws(SpoolError) -> stat? {
        var st = stat()
        if cLstat(path, &st) == 0 { return st }
        if errno == ENOENT { return nil }
        throw fail("lstat", path)
    }

    /// The corresponding C function is `fchmod(2)`.
    static func fchmod(_ fd: Int32, _ mode: mode_t, _ path: String) throws(SpoolError) {
        if Glibc.fchmod(fd, mode) != 0 { throw fail("fchmod", path) }
    }

    /// The corresponding C function is `fchown(2)`.
    static func fchown(_ fd: Int32, _ uid: uid_t, _ gid: gid_t, _ path: String) throws(SpoolError) {
        if Glibc.fchown(fd, uid, gid) != 0 { throw fail("fchown", path) }
    }

    /// The corresponding C function is `pread(2)`.
    static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int, _ path: String) throws(SpoolError) -> Int {
        while true {
            let n = Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw fail("pread", path) }
        }
    }

    /// The corresponding C function is `write(2)`. One call, so that an
    /// `O_APPEND` line lands whole; returns how much was written, which is
    /// less than asked only on a fault (disk full, file size limit).
    static func writeOnce(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(SpoolError) -> Int {
        while true {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n >= 0 { return n }
            if errno != EINTR { throw fail("write", path) }
        }
    }

    /// Writes all of `bytes` with as few `write(2)` calls as the kernel
    /// allows (one, normally). A short write is continued: it either
    /// completes or fails with the reason (ENOSPC, EFBIG, …), and the error
    /// then carries how much was written, for the caller to take back.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(SpoolError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                let code = n < 0 ? errno : ENOSPC
                throw SpoolError("write (\(done) of \(bytes.count) bytes written)", path, errno: code)
            }
        }
    }

    /// The corresponding C function is `ftruncate(2)`.
    static func ftruncate(_ fd: Int32, _ size: Int, _ path: String) throws(SpoolError) {
        while Glibc.ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw fail("ftruncate", path) }
        }
    }

    /// The corresponding C function is `rename(2)`.
    static func rename(_ from: String, _ to: String) throws(SpoolError) {
        if Glibc.rename(from, to) != 0 { throw fail("rename", from) }
    }

    /// The corresponding C function is `unlink(2)`.
    static func unlink(_ path: String) throws(SpoolError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw fail("unlink", path) }
    }

    /// The corresponding C function is `mkdir(2)`; an existing directory is fine.
    static func mkdir(_ path: String, _ mode: mode_t = 0o775) throws(SpoolError) {
        if Glibc.mkdir(path, mode) != 0 && errno != EEXIST { throw fail("mkdir", path) }
    }

    /// `mkdir -p`: creates `path` and any missing parents (the parents
    /// with `parentMode`, the last with `mode`, both less the umask).
    static func mkdirs(_ path: String, mode: mode_t = 0o700, parentMode: mode_t = 0o755) throws(SpoolError) {
        var prefix = ""
        let parts = path.split(separator: "/")
        for (i, part) in parts.enumerated() {
            prefix += "/" + part
            try mkdir(prefix, i == parts.count - 1 ? mode : parentMode)
        }
    }

    /// The corresponding C function is `fdatasync(2)`.
    static func fdatasync(_ fd: Int32, _ path: String) throws(SpoolError) {
        while Glibc.fdatasync(fd) != 0 {
            if errno != EINTR { throw fail("fdatasync", path) }
        }
    }

    /// Syncs a directory so that a created or renamed entry survives a crash.
    /// The corresponding C functions are `open(2)` and `fsync(2)`.
    static func syncDirectory(_ path: String) throws(SpoolError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw fail("fsync", path) }
        }
    }

    /// Sets a file's times to now. The corresponding C function is `futimens(2)`.
    static func touch(_ fd: Int32, _ path: String) throws(SpoolError) {
        if Glibc.futimens(fd, nil) != 0 { throw fail("futimens", path) }
    }

    /// The names in a directory, without `.` and `..`. The corresponding C
    /// functions are `opendir(3)` and `readdir(3)`.
    static func listDirectory(_ path: String) throws(SpoolError) -> [String] {
        guard let dir = opendir(path) else { throw fail("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func nowMillis() -> Int64 { SystemClock.nowMillis() }

    /// Wall-clock time in nanoseconds since the Unix epoch.
    static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func millis(_ ts: timespec) -> Int64 {
        Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// The wall clock and sleeping, for the modules that do I/O (the core is
/// given the time instead).
public enum SystemClock {
    /// Wall-clock time in milliseconds since the Unix epoch.
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Sleeps `ms` milliseconds, resuming after signals.
    public static func sleep(millis ms: Int) {
        var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// A thread's body, passed through pthread_create's context pointer.
private final class ThreadBody: @unchecked Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// Starts a thread running `run`; nil when the system refuses one.
/// (Outside any generic context: Swift 6.3's region analysis crashes on a
/// C callback literal inside a generic type.)
public func startThread(_ run: @escaping @Sendable () -> Void) -> pthread_t? {
    let context = Unmanaged.passRetained(ThreadBody(run)).toOpaque()
    var handle = pthread_t()
    let created = pthread_create(&handle, nil, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, context)
    if created == 0 { return handle }
    Unmanaged<ThreadBody>.fromOpaque(context).release()
    return nil
}
