#if canImport(Glibc)
import Glibc
#endif

/// A listening socket opened for `serve`.
public enum ListenSocket {
    /// What went wrong, for a `pixelgate:` message and exit 1.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Opens and binds `address`, and returns the descriptor and the
    /// address actually bound. A unix socket path is taken over only when
    /// it is a stale socket (one nobody accepts on); a file of any other
    /// kind is never removed.
    ///
    /// A unix socket is made in its directory, opened once and checked:
    /// no one but this user and root may change it (or it is sticky), so no
    /// one can swap the socket for a link between its making and its
    /// modes. It is born 0600 (the socket's mode, set before the bind), then
    /// given `socketGroup` (when set) and `socketMode`; nobody else could
    /// connect in between.
    public static func open(_ address: SocketAddress, backlog: Int32, socketMode: UInt32,
                            socketGroup: UInt32? = nil) throws(Failure) -> (Int32, String) {
        switch address {
        case .unix(let path):
            let fd = try bindUnix(path, socketMode: socketMode, socketGroup: socketGroup)
            guard Glibc.listen(fd, backlog) == 0 else { let error = failure("listen", path); close(fd); throw error }
            return (fd, path)
        case .inet(let ip, let port):
            let isIPv4 = ip.count == 4
            let family = isIPv4 ? AF_INET : AF_INET6
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw failure("socket", address.description) }
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            // Hand over a connection only once its first bytes are in: a web
            // server's request then arrives whole with it, and a client that
            // connects and sends nothing is never given to a thread.
            var deferSeconds: Int32 = 5
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_DEFER_ACCEPT, &deferSeconds, socklen_t(MemoryLayout<Int32>.size))
            var storage = sockaddr_storage()
            let length: socklen_t
            if isIPv4 {
                length = socklen_t(MemoryLayout<sockaddr_in>.size)
                withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        sin.pointee.sin_family = sa_family_t(AF_INET)
                        sin.pointee.sin_port = port.bigEndian
                        withUnsafeMutableBytes(of: &sin.pointee.sin_addr) { raw in for i in 0..<4 { raw[i] = ip[i] } }
                    }
                }
            } else {
                setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
                withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        sin6.pointee.sin6_family = sa_family_t(AF_INET6)
                        sin6.pointee.sin6_port = port.bigEndian
                        withUnsafeMutableBytes(of: &sin6.pointee.sin6_addr) { raw in for i in 0..<16 { raw[i] = ip[i] } }
                    }
                }
            }
            let bound = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { let error = failure("bind", address.description); close(fd); throw error }
            guard Glibc.listen(fd, backlog) == 0 else { let error = failure("listen", address.description); close(fd); throw error }
            return (fd, address.description)
        }
    }

    /// Binds a unix socket at `path` with the directory pinned: the
    /// directory is opened and checked, made the working directory for the
    /// bind (so `path`'s ancestors cannot be swapped between the check and
    /// the bind), and the socket's group and mode are set through it.
    static func bindUnix(_ path: String, socketMode: UInt32, socketGroup: UInt32?) throws(Failure) -> Int32 {
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))!  // parsing took absolute paths only
        let directory = slash == path.utf8.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.utf8.index(after: slash)...])
        let dirFD = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw failure("open its directory", path) }
        defer { close(dirFD) }
        var dir = stat()
        guard fstat(dirFD, &dir) == 0 else { throw failure("fstat its directory", path) }
        let me = geteuid()
        let othersMayChange = dir.st_mode & (S_IWGRP | S_IWOTH) != 0 && dir.st_mode & S_ISVTX == 0
        guard (dir.st_uid == me || dir.st_uid == 0) && !othersMayChange else {
            throw Failure(description: "cannot listen on \(path): its directory \(directory) (owner \(Users.name(of: dir.st_uid)), mode "
                          + "0\(String(dir.st_mode & 0o7777, radix: 8))) can be changed by others, who could swap the socket; "
                          + "put it in a directory only this user or root can change, such as /run/pixelgate")
        }
        let cwd = Glibc.open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fchdir(dirFD) == 0 else { if cwd >= 0 { close(cwd) }; throw failure("enter its directory", path) }
        defer {
            if cwd >= 0 { _ = fchdir(cwd); close(cwd) } else { _ = chdir("/") }
        }
        try clearStaleSocket(name, shownAs: path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("socket", path) }
        var sun = unixAddress(name)
        // Born 0600 (less the umask): Linux makes the socket's file with the
        // socket's own mode, which fchmod sets before the bind. No one else
        // can connect before its group and mode are set below, and the
        // process's umask, which other threads share, is left alone.
        guard fchmod(fd, 0o600) == 0 else { let error = failure("fchmod", path); close(fd); throw error }
        let bound = withUnsafePointer(to: &sun) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { let error = failure("bind", path); close(fd); throw error }
        if let socketGroup, fchownat(dirFD, name, UInt32.max, socketGroup, AT_SYMLINK_NOFOLLOW) != 0 {
            let error = errno == EPERM
                ? Failure(description: "cannot listen on \(path): cannot give it group \(Groups.name(of: socketGroup)): \(Users.name(of: me)) is not a member of it (add the group with SupplementaryGroups= or usermod -aG)")
                : failure("chown", path)
            unlinkat(dirFD, name, 0)
            close(fd)
            throw error
        }
        guard fchmodat(dirFD, name, mode_t(socketMode), 0) == 0 else {
            let error = failure("chmod", path)
            unlinkat(dirFD, name, 0)
            close(fd)
            throw error
        }
        return fd
    }

    /// Removes `path` when it is a socket nobody accepts on (a killed
    /// run's); refuses when it is anything else or still in use.
    public static func clearStaleSocket(_ path: String) throws(Failure) {
        try clearStaleSocket(path, shownAs: path)
    }

    static func clearStaleSocket(_ path: String, shownAs shown: String) throws(Failure) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            throw Failure(description: "\(shown) exists and is not a socket; pixelgate will not remove it")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(probe) }
        var sun = unixAddress(path)
        let connected = withUnsafePointer(to: &sun) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected == 0 { throw Failure(description: "\(shown) is in use by another server") }
        guard errno == ECONNREFUSED else { return }
        unlink(path)
    }

    /// The socket address of `path` (shorter than `sun_path`, as parsing checked).
    static func unixAddress(_ path: String) -> sockaddr_un {
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &sun.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        return sun
    }

    static func failure(_ call: String, _ what: String) -> Failure {
        Failure(description: "cannot listen on \(what): \(call): \(String(cString: strerror(errno)))")
    }
}
