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
    public static func open(_ address: SocketAddress, backlog: Int32, socketMode: UInt32) throws(Failure) -> (Int32, String) {
        switch address {
        case .unix(let path):
            try clearStaleSocket(path)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw failure("socket", path) }
            var sun = unixAddress(path)
            let bound = withUnsafePointer(to: &sun) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { let error = failure("bind", path); close(fd); throw error }
            guard chmod(path, mode_t(socketMode)) == 0 else { let error = failure("chmod", path); close(fd); throw error }
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

    /// Removes `path` when it is a socket nobody accepts on (a killed
    /// run's); refuses when it is anything else or still in use.
    public static func clearStaleSocket(_ path: String) throws(Failure) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            throw Failure(description: "\(path) exists and is not a socket; pixelgate will not remove it")
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(probe) }
        var sun = unixAddress(path)
        let connected = withUnsafePointer(to: &sun) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected == 0 { throw Failure(description: "\(path) is in use by another server") }
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
