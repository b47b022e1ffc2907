#if canImport(Glibc)
import Glibc
#endif

// At file scope, where the names resolve to the functions rather than to
// the C structs of the same name.
private func cFlock(_ fd: Int32, _ operation: Int32) -> Int32 { flock(fd, operation) }
private func cStat(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }
private func cLstat(_ path: String, _ st: inout stat) -> Int32 { lstat(path, &st) }

/// Thin wrappers over the file system calls: each retries `EINTR` and
/// turns -1 into a `SystemError` naming the call and the path. Names are
/// paths, never followed through a link in their last component.
public enum Sys {
    public static func fail(_ op: String, _ path: String) -> SystemError { SystemError(op, path, errno: errno) }

    /// The corresponding C function is `open(2)`, never following a
    /// symbolic link in the last component (`O_NOFOLLOW`): nothing in a
    /// spool is read or written through a link someone planted there.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o600) throws(SystemError) -> Int32 {
        if let code = Faults.take("open", path) { throw SystemError("open", path, errno: code) }
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC | O_NOFOLLOW, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail("open", path) }
        }
    }

    /// The corresponding C function is `close(2)`.
    public static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// The corresponding C function is `flock(2)`.
    public static func flock(_ fd: Int32, _ operation: Int32, _ path: String) throws(SystemError) {
        if let code = Faults.take("flock", path) { throw SystemError("flock", path, errno: code) }
        while cFlock(fd, operation) != 0 {
            if errno != EINTR { throw fail("flock", path) }
        }
    }

    /// An exclusive `flock(2)` waited for at most `waitMillis`: tried at
    /// once, then again after pauses growing from 50 µs to 1 ms (a spool's
    /// lock is held for one write, so a second try nearly always takes it).
    /// Throws `EWOULDBLOCK`, naming the wait, when it is still held.
    public static func lock(_ fd: Int32, _ path: String, waitingAtMost waitMillis: Int64) throws(SystemError) {
        if let code = Faults.take("flock", path) { throw SystemError("flock", path, errno: code) }
        if try tryLock(fd, path) { return }
        let deadline = SystemClock.monotonicMillis() + waitMillis
        var pause: UInt32 = 50
        while true {
            usleep(pause)
            if try tryLock(fd, path) { return }
            if SystemClock.monotonicMillis() >= deadline {
                throw SystemError("flock (held by another process for over \(waitMillis) ms)", path, errno: EWOULDBLOCK)
            }
            pause = min(pause * 2, 1000)
        }
    }

    /// A non-blocking exclusive `flock(2)`: false when another holds it.
    public static func tryLock(_ fd: Int32, _ path: String) throws(SystemError) -> Bool {
        while cFlock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { return false }
            if errno != EINTR { throw fail("flock", path) }
        }
        return true
    }

    /// The corresponding C function is `fstat(2)`.
    public static func fstat(_ fd: Int32, _ path: @autoclosure () -> String) throws(SystemError) -> stat {
        if let code = Faults.take("fstat", path()) { throw SystemError("fstat", path(), errno: code) }
        var st = stat()
        if Glibc.fstat(fd, &st) != 0 { throw fail("fstat", path()) }
        return st
    }

    /// The corresponding C function is `stat(2)`; nil when the path does not exist.
    public static func statIfExists(_ path: String) throws(SystemError) -> stat? {
        var st = stat()
        if cStat(path, &st) == 0 { return st }
        if errno == ENOENT { return nil }
        throw fail("stat", path)
    }

    /// The corresponding C function is `lstat(2)` (a link is not followed);
    /// nil when nothing is there.
    public static func lstatIfExists(_ path: String) throws(SystemError) -> stat? {
        var st = stat()
        if cLstat(path, &st) == 0 { return st }
        if errno == ENOENT { return nil }
        throw fail("lstat", path)
    }

    /// The corresponding C function is `fchmod(2)`.
    public static func fchmod(_ fd: Int32, _ mode: mode_t, _ path: String) throws(SystemError) {
        if Glibc.fchmod(fd, mode) != 0 { throw fail("fchmod", path) }
    }

    /// The corresponding C function is `fchown(2)`.
    public static func fchown(_ fd: Int32, _ uid: uid_t, _ gid: gid_t, _ path: String) throws(SystemError) {
        if Glibc.fchown(fd, uid, gid) != 0 { throw fail("fchown", path) }
    }

    /// The corresponding C function is `pread(2)`.
    public static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int, _ path: String) throws(SystemError) -> Int {
        while true {
            let n = Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw fail("pread", path) }
        }
    }

    /// The corresponding C function is `pwrite(2)`: all of `bytes` at
    /// `offset`, or the reason it could not be (a short write is a fault).
    public static func pwrite(_ fd: Int32, _ bytes: [UInt8], at offset: Int, _ path: String) throws(SystemError) {
        if let fault = Faults.take("write", path) { throw SystemError("pwrite", path, errno: fault) }
        while true {
            let n = bytes.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n == bytes.count { return }
            if n >= 0 { throw SystemError("pwrite (\(n) of \(bytes.count) bytes written)", path, errno: ENOSPC) }
            if errno != EINTR { throw fail("pwrite", path) }
        }
    }

    /// The corresponding C function is `write(2)`. One call, so that an
    /// `O_APPEND` line lands whole; returns how much was written, which is
    /// less than asked only on a fault (disk full, file size limit).
    public static func writeOnce(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(SystemError) -> Int {
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
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(SystemError) {
        var done = 0
        var limit = bytes.count
        let fault = Faults.take("write", path)
        if fault != nil { limit = bytes.count / 2 }
        while done < limit {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, limit - done) }
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                let code = n < 0 ? errno : ENOSPC
                throw SystemError("write (\(done) of \(bytes.count) bytes written)", path, errno: code)
            }
        }
        if let fault { throw SystemError("write (\(done) of \(bytes.count) bytes written)", path, errno: fault) }
    }

    /// The corresponding C function is `ftruncate(2)`.
    public static func ftruncate(_ fd: Int32, _ size: Int, _ path: String) throws(SystemError) {
        if let code = Faults.take("ftruncate", path) { throw SystemError("ftruncate", path, errno: code) }
        while Glibc.ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw fail("ftruncate", path) }
        }
    }

    /// The corresponding C function is `rename(2)`.
    public static func rename(_ from: String, _ to: String) throws(SystemError) {
        if let code = Faults.take("rename", from) { throw SystemError("rename", from, errno: code) }
        if Glibc.rename(from, to) != 0 { throw fail("rename", from) }
    }

    /// The corresponding C function is `unlink(2)`.
    public static func unlink(_ path: String) throws(SystemError) {
        if let code = Faults.take("unlink", path) { throw SystemError("unlink", path, errno: code) }
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw fail("unlink", path) }
    }

    /// The corresponding C function is `mkdir(2)`; an existing directory is fine.
    public static func mkdir(_ path: String, _ mode: mode_t = 0o775) throws(SystemError) {
        if let code = Faults.take("mkdir", path) { throw SystemError("mkdir", path, errno: code) }
        if Glibc.mkdir(path, mode) != 0 && errno != EEXIST { throw fail("mkdir", path) }
    }

    /// The corresponding C function is `mkdir(2)`: true when this call made
    /// the directory, false when something was there already.
    public static func makeDirectory(_ path: String, _ mode: mode_t) throws(SystemError) -> Bool {
        if let code = Faults.take("mkdir", path) { throw SystemError("mkdir", path, errno: code) }
        if Glibc.mkdir(path, mode) == 0 { return true }
        if errno == EEXIST { return false }
        throw fail("mkdir", path)
    }

    /// `mkdir -p`: creates `path` and any missing parents (the parents
    /// with `parentMode`, the last with `mode`, both less the umask).
    public static func mkdirs(_ path: String, mode: mode_t = 0o700, parentMode: mode_t = 0o755) throws(SystemError) {
        var prefix = ""
        let parts = path.split(separator: "/")
        for (i, part) in parts.enumerated() {
            prefix += "/" + part
            try mkdir(prefix, i == parts.count - 1 ? mode : parentMode)
        }
    }

    /// The corresponding C function is `fdatasync(2)`.
    public static func fdatasync(_ fd: Int32, _ path: String) throws(SystemError) {
        if let code = Faults.take("fdatasync", path) { throw SystemError("fdatasync", path, errno: code) }
        while Glibc.fdatasync(fd) != 0 {
            if errno != EINTR { throw fail("fdatasync", path) }
        }
    }

    /// Syncs a directory so that a created or renamed entry survives a crash.
    /// The corresponding C functions are `open(2)` and `fsync(2)`.
    public static func syncDirectory(_ path: String) throws(SystemError) {
        if let code = Faults.take("fsync", path) { throw SystemError("fsync", path, errno: code) }
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw fail("fsync", path) }
        }
    }

    /// Sets a file's times to now. The corresponding C function is `futimens(2)`.
    public static func touch(_ fd: Int32, _ path: String) throws(SystemError) {
        if Glibc.futimens(fd, nil) != 0 { throw fail("futimens", path) }
    }

    /// The names in a directory, without `.` and `..`. The corresponding C
    /// functions are `opendir(3)` and `readdir(3)`.
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        guard let dir = opendir(path) else { throw fail("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            // The name in place, up to its NUL: a dirent is only as long as
            // its name, and copying the whole 256-byte field out of the last
            // one in readdir's buffer read past the buffer's end.
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The path with every link, `.` and `..` resolved; nil when it does
    /// not resolve. The corresponding C function is `realpath(3)`.
    public static func realpath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The bytes and inodes an unprivileged user may still take on the
    /// file system holding the directory `path`. The corresponding C function is `fstatvfs(3)`.
    public static func freeSpace(_ path: String) throws(SystemError) -> (bytes: UInt64, inodes: UInt64) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NONBLOCK)
        guard fd >= 0 else { throw fail("open", path) }
        defer { close(fd) }
        var st = statvfs()
        guard fstatvfs(fd, &st) == 0 else { throw fail("fstatvfs", path) }
        return (UInt64(st.f_bavail) * UInt64(st.f_frsize), UInt64(st.f_favail))
    }

    /// Reads a whole file of at most `limit` bytes. `followingLinks`: a
    /// settings file may be a link an administrator made; spool files never are.
    /// `refusing` sees the opened file's status and returns why it is not
    /// to be read, if it is not (a settings file someone else may write).
    /// A FIFO or device is never waited on: the file is opened without
    /// blocking and must be a regular file.
    public static func readFile(_ path: String, limit: Int, followingLinks: Bool,
                                refusing: ((stat) -> String?)? = nil) throws(SystemError) -> [UInt8] {
        var fd: Int32
        repeat {
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followingLinks ? 0 : O_NOFOLLOW))
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw fail("open", path) }
        defer { close(fd) }
        let st = try fstat(fd, path)
        guard st.st_mode & S_IFMT == S_IFREG else { throw SystemError("read (not a regular file)", path, errno: EINVAL) }
        if let refusal = refusing?(st) { throw SystemError("read (\(refusal))", path, errno: EPERM) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while bytes.count <= limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("read", path)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard bytes.count <= limit else { throw SystemError("read (larger than \(limit) bytes)", path, errno: EFBIG) }
        return bytes
    }

    /// Raises this process's soft limit of open descriptors to the hard
    /// one (systemd gives services 1,024 soft and 524,288 hard) and returns
    /// the limit now in force. The corresponding C functions are
    /// `getrlimit(2)` and `setrlimit(2)`.
    @discardableResult
    public static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The soft limit of open descriptors.
    public static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur)
    }
}

/// `RLIMIT_NOFILE` as Glibc's Swift overlay types it.
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
