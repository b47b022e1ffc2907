#if canImport(Glibc)
import Glibc
#endif

/// Calls on connected and listening sockets, by descriptor.
public enum Socket {
    /// A connection `accept` took.
    public struct Accepted: Sendable {
        public var fd: Int32
        /// The peer's IPv4 address as it is in memory (network order), or
        /// nil for an IPv6 or unix peer.
        public var ipv4Peer: UInt32?

        public init(fd: Int32, ipv4Peer: UInt32?) {
            self.fd = fd
            self.ipv4Peer = ipv4Peer
        }
    }

    /// What became of an accept.
    public enum AcceptResult: Sendable {
        case accepted(Accepted)
        /// Nothing waiting (EAGAIN: another thread took it), or a signal
        /// interrupted the call (look at the stop flag).
        case nothingWaiting
        /// A failure that is not about one connection: errno.
        case failed(Int32)
    }

    /// Accepts one connection as libfcgi's own accept does: TCP_NODELAY on
    /// TCP. Connections that failed before they were taken (accept(2),
    /// "Error handling") are skipped. The corresponding C function is
    /// `accept(2)`.
    public static func accept(_ listenFD: Int32) -> AcceptResult {
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listenFD, $0, &length) }
            }
            if fd < 0 {
                switch errno {
                case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH: continue
                case EAGAIN, EWOULDBLOCK, EINTR: return .nothingWaiting
                default: return .failed(errno)
                }
            }
            guard address.ss_family == sa_family_t(AF_INET) || address.ss_family == sa_family_t(AF_INET6) else {
                return .accepted(Accepted(fd: fd, ipv4Peer: nil))
            }
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            guard address.ss_family == sa_family_t(AF_INET) else { return .accepted(Accepted(fd: fd, ipv4Peer: nil)) }
            let peer = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            }
            return .accepted(Accepted(fd: fd, ipv4Peer: peer))
        }
    }

    /// Whether an accept failed for want of descriptors or memory, which
    /// the connections in hand give back as they close.
    public static func isShortage(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM
    }

    /// An IPv4 address in dotted form, as `accept` reports peers; nil when
    /// it is not one. The corresponding C function is `inet_pton(3)`.
    public static func ipv4(_ text: String) -> UInt32? {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1 ? address.s_addr : nil
    }

    /// Whether `fd` is a socket still waiting for connections (listening)
    /// rather than a connected one, a pipe or a file: how a FastCGI
    /// responder tells it was started by a web server's process manager.
    /// The corresponding C function is `getpeername(2)` (ENOTCONN).
    public static func isListening(_ fd: Int32) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        return rc != 0 && errno == ENOTCONN
    }

    /// Makes `accept` on `fd` return at once when nothing waits (O_NONBLOCK).
    public static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Makes a read of `fd` give up after `millis` (SO_RCVTIMEO).
    public static func setReceiveTimeout(_ fd: Int32, millis: Int64) {
        var limit = timeval(tv_sec: Int(millis / 1000), tv_usec: Int(millis % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends all of `bytes` (no SIGPIPE) by `deadlineMillis` (monotonic),
    /// waiting in `poll` between writes; false when the connection broke or
    /// the peer did not take them in time. The corresponding C functions
    /// are `send(MSG_DONTWAIT)` and `poll(2)`.
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8], deadlineMillis: Int64) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if n > 0 {
                done += n
                continue
            }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return false }
            let left = deadlineMillis - SystemClock.monotonicMillis()
            guard left > 0 else { return false }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&entry, 1, Int32(clamping: left))
        }
        return true
    }

    /// Sends all of `bytes` (no SIGPIPE), waiting as long as it takes; false
    /// when the connection broke. For a client's side (the tests'): nothing
    /// bounds the wait, so a connection `serve` accepted is answered with the
    /// deadline form above, never this.
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }

    /// A connected pair of unix stream sockets (close-on-exec), each able
    /// to hold `bufferBytes` unread. The corresponding C function is
    /// `socketpair(2)`.
    public static func pair(bufferBytes: Int) -> (Int32, Int32)? {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else { return nil }
        var size = Int32(clamping: bufferBytes)
        for fd in fds {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        return (fds[0], fds[1])
    }

    /// What a read of a connection's waiting bytes found.
    public enum Received: Equatable {
        /// This many bytes were appended.
        case bytes(Int)
        /// Nothing waiting now.
        case nothingYet
        /// The peer closed, or the connection broke.
        case closed
    }

    /// Takes the bytes waiting on `fd`, up to `limit` of them, without
    /// waiting, and appends them to `buffer`. A read that comes back short
    /// ends the call: the next would nearly always say EAGAIN (a system
    /// call a request), and bytes still waiting, or arriving later, wake a
    /// level-triggered poll again: callers must poll level-triggered (as
    /// `Poller` does), or read again themselves. The corresponding C
    /// function is `recv(MSG_DONTWAIT)`.
    public static func receive(_ fd: Int32, appendingTo buffer: inout [UInt8], limit: Int) -> Received {
        var total = 0
        // Not zero-filled: recv writes what is read, and only that is kept.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)
        defer { chunk.deallocate() }
        while total < limit {
            let wanted = min(chunk.count, limit - total)
            let n = recv(fd, chunk.baseAddress, wanted, Int32(MSG_DONTWAIT))
            if n > 0 {
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                total += n
                if n < wanted { return .bytes(total) }
                continue
            }
            if n == 0 { return total > 0 ? .bytes(total) : .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return total > 0 ? .bytes(total) : .nothingYet }
            // Broken (a reset): what came before is still the peer's
            // request; the next read reports the break.
            return total > 0 ? .bytes(total) : .closed
        }
        return .bytes(total)
    }

    /// The corresponding C function is `close(2)`.
    public static func close(_ fd: Int32) { Sys.close(fd) }
}
