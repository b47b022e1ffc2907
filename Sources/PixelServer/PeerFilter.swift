import PixelSystem

/// Which web servers may connect: libfcgi's `FCGI_WEB_SERVER_ADDRS`, a
/// comma-separated list of IPv4 addresses. Connections from other IPv4
/// peers are closed unanswered; IPv6 and unix peers are not filtered (as
/// libfcgi does).
public struct PeerFilter: Sendable, Equatable {
    /// The addresses allowed, as `Socket.accept` reports peers; nil: any.
    public let allowed: [UInt32]?

    /// From the variable's value; unset or empty allows any peer, and
    /// entries that are not IPv4 addresses are skipped.
    public init(_ list: String?) {
        guard let list, !list.isEmpty else {
            allowed = nil
            return
        }
        allowed = list.split(separator: ",").compactMap { Socket.ipv4(String($0)) }
    }

    /// From the process environment.
    public static func fromEnvironment() -> PeerFilter {
        PeerFilter(ProcessControl.variable("FCGI_WEB_SERVER_ADDRS"))
    }

    public func admits(_ connection: Socket.Accepted) -> Bool {
        guard let allowed, let peer = connection.ipv4Peer else { return true }
        return allowed.contains(peer)
    }
}
