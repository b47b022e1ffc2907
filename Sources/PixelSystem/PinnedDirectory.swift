#if canImport(Glibc)
import Glibc
#endif

/// A directory held open by its descriptor, and every name in it reached
/// through that descriptor (`openat`, `renameat`, `unlinkat`, `fstatat`),
/// never through a path: once it is opened and checked, swapping it or
/// anything above it for a link changes nothing this process does. Names
/// are single entries (no `/`), and none is followed through a link.
///
/// `path` is what messages (and the fault seam) call it.
public final class PinnedDirectory: @unchecked Sendable {
    public let fd: Int32
    public let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { _ = Glibc.close(fd) }

    /// Opens the directory at `path`, never through a link in its last
    /// component. The corresponding C function is `open(2)` with
    /// `O_DIRECTORY | O_NOFOLLOW`.
    public static func open(_ path: String) throws(SystemError) -> PinnedDirectory {
        if let code = Faults.take("open", path) { throw SystemError("open", path, errno: code) }
        while true {
            let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            if fd >= 0 { return PinnedDirectory(fd: fd, path: path) }
            if errno != EINTR { throw SystemError("open", path, errno: errno) }
        }
    }

    /// `path/name`, for messages.
    public func pathOf(_ name: String) -> String { path + "/" + name }

    /// The directory's own status, from its descriptor (`fstat(2)`).
    public func status() throws(SystemError) -> stat {
        var st = stat()
        if Glibc.fstat(fd, &st) != 0 { throw SystemError("fstat", path, errno: errno) }
        return st
    }

    /// Opens `name` here, never through a link, close-on-exec and never as
    /// a controlling terminal. The corresponding C function is `openat(2)`.
    public func open(_ name: String, _ flags: Int32, _ mode: mode_t = 0o600) throws(SystemError) -> Int32 {
        assert(!name.utf8.contains(UInt8(ascii: "/")), "a pinned directory opens its own entries only")
        if let code = Faults.take("open", pathOf(name)) { throw SystemError("open", pathOf(name), errno: code) }
        while true {
            let fd = openat(self.fd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemError("open", pathOf(name), errno: errno) }
        }
    }

    /// The status of the entry `name` itself (a link is not followed); nil
    /// when there is none. The corresponding C function is `fstatat(2)`.
    public func statusOf(_ name: String) throws(SystemError) -> stat? {
        if let code = Faults.take("fstatat", pathOf(name)) { throw SystemError("fstatat", pathOf(name), errno: code) }
        var st = stat()
        if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
        if errno == ENOENT { return nil }
        throw SystemError("fstatat", pathOf(name), errno: errno)
    }

    /// Makes the directory `name` here with `mode` (less the umask); false
    /// when something is there already. The corresponding C function is
    /// `mkdirat(2)`.
    public func makeDirectory(_ name: String, _ mode: mode_t) throws(SystemError) -> Bool {
        if let code = Faults.take("mkdir", pathOf(name)) { throw SystemError("mkdir", pathOf(name), errno: code) }
        if mkdirat(fd, name, mode) == 0 { return true }
        if errno == EEXIST { return false }
        throw SystemError("mkdir", pathOf(name), errno: errno)
    }

    /// Opens the directory `name` here, never through a link.
    public func subdirectory(_ name: String) throws(SystemError) -> PinnedDirectory {
        let fd = try open(name, O_RDONLY | O_DIRECTORY | O_NONBLOCK)
        return PinnedDirectory(fd: fd, path: pathOf(name))
    }

    /// Renames `name` here to `newName` in `target` (this directory when
    /// nil). The corresponding C function is `renameat(2)`.
    public func rename(_ name: String, to newName: String, in target: PinnedDirectory? = nil) throws(SystemError) {
        if let code = Faults.take("rename", pathOf(name)) { throw SystemError("rename", pathOf(name), errno: code) }
        if renameat(fd, name, (target ?? self).fd, newName) != 0 { throw SystemError("rename", pathOf(name), errno: errno) }
    }

    /// Removes the entry `name` here (not a directory); nothing there is
    /// fine. The corresponding C function is `unlinkat(2)`.
    public func remove(_ name: String) throws(SystemError) {
        if let code = Faults.take("unlink", pathOf(name)) { throw SystemError("unlink", pathOf(name), errno: code) }
        if unlinkat(fd, name, 0) != 0 && errno != ENOENT { throw SystemError("unlink", pathOf(name), errno: errno) }
    }

    /// The names here, without `.` and `..`. The corresponding C functions
    /// are `openat(2)`, `fdopendir(3)` and `readdir(3)`.
    public func names() throws(SystemError) -> [String] {
        let own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard own >= 0 else { throw SystemError("opendir", path, errno: errno) }
        guard let dir = fdopendir(own) else {
            let error = SystemError("opendir", path, errno: errno)
            _ = Glibc.close(own)
            throw error
        }
        defer { closedir(dir) }
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Makes the entries created or renamed here survive a crash. The
    /// corresponding C function is `fsync(2)`.
    public func sync() throws(SystemError) {
        if let code = Faults.take("fsync", path) { throw SystemError("fsync", path, errno: code) }
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw SystemError("fsync", path, errno: errno) }
        }
    }

    /// The bytes and inodes an unprivileged user may still take on this
    /// directory's file system. The corresponding C function is `fstatvfs(3)`.
    public func freeSpace() throws(SystemError) -> (bytes: UInt64, inodes: UInt64) {
        var vfs = statvfs()
        guard fstatvfs(fd, &vfs) == 0 else { throw SystemError("fstatvfs", path, errno: errno) }
        return (UInt64(vfs.f_bavail) * UInt64(vfs.f_frsize), UInt64(vfs.f_favail))
    }
}
