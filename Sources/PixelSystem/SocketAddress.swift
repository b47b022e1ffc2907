#if canImport(Glibc)
import Glibc
#endif

/// An address to listen on: a unix socket's path, or an IP address (4 or
/// 16 bytes, network order) and a port.
public enum SocketAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(String)
    case inet([UInt8], port: UInt16)

    /// `/path`, `1.2.3.4:9000` or `[::1]:9000`.
    public var description: String {
        switch self {
        case .unix(let path): return path
        case .inet(let ip, let port):
            if ip.count == 4 { return ip.map(String.init).joined(separator: ".") + ":\(port)" }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = ip.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }
            return "[\(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))]:\(port)"
        }
    }
}
