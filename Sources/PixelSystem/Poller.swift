#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// An epoll instance: one thread's watch over a listening socket and the
/// connections still delivering their requests.
public struct Poller: ~Copyable {
    private let fd: Int32
    private var events: [epoll_event]

    /// Nil when the kernel refuses one (errno says why). The corresponding
    /// C function is `epoll_create1(2)`.
    public init?(capacity: Int = 32) {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { return nil }
        events = [epoll_event](repeating: epoll_event(), count: capacity)
    }

    deinit { _ = Glibc.close(fd) }

    /// Watches `socket` for input. `exclusive` (EPOLLEXCLUSIVE): an event
    /// wakes one of the threads watching it, not all. The corresponding C
    /// function is `epoll_ctl(EPOLL_CTL_ADD)`.
    public func watch(_ socket: Int32, exclusive: Bool) -> Bool {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | (exclusive ? EPOLLEXCLUSIVE.rawValue : 0)
        event.data.fd = socket
        return epoll_ctl(fd, EPOLL_CTL_ADD, socket, &event) == 0
    }

    /// Stops watching `socket`.
    public func forget(_ socket: Int32) {
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, socket, nil)
    }

    /// Waits up to `timeoutMillis` (-1: no limit) for input; returns how
    /// many sockets have some (`ready(i)` names them), 0 on a timeout.
    /// Throws on a failure other than an interrupting signal (then it
    /// returns 0, for the caller to look at its stop flag). Nothing is
    /// allocated: a pool thread waits here once a request. The corresponding
    /// C function is `epoll_wait(2)`.
    public mutating func wait(timeoutMillis: Int32) throws(SystemError) -> Int {
        let n = epoll_wait(fd, &events, Int32(events.count), timeoutMillis)
        if n < 0 {
            if errno == EINTR { return 0 }
            throw SystemError("epoll_wait", "", errno: errno)
        }
        return Int(n)
    }

    /// The `i`th socket the last `wait` found ready.
    public func ready(_ i: Int) -> Int32 { events[i].data.fd }
}
