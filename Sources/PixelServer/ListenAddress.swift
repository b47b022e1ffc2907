import PixelCore
import PixelSystem

/// Where `pixelgate serve --listen` listens, parsed by pixelgate rather
/// than left to libfcgi (which took `127.0.0.1:99999` as port 34463, `:9000`
/// as every interface, and anything else as a unix socket in the current
/// directory).
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// `HOST:PORT` (an IPv4 address, or `localhost`) or `[IPv6]:PORT`.
    case tcp(IPAddress, port: UInt16)
    /// An absolute path.
    case unix(String)

    /// Nil for anything that is not one of the forms above, with a port
    /// from 1 to 65535.
    public init?(_ text: String) {
        if text.hasPrefix("/") {
            guard text.utf8.count < 108, !text.hasSuffix("/") else { return nil }  // sun_path's size
            self = .unix(text)
            return
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = text[..<colon]
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText), (1...65_535).contains(port) else { return nil }
        let address: IPAddress?
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
            address = IPAddress(host).flatMap { $0.isIPv4 ? nil : $0 }
        } else if host == "localhost" {
            address = IPAddress("127.0.0.1")
        } else {
            address = IPAddress(host).flatMap { $0.isIPv4 ? $0 : nil }
        }
        guard let address else { return nil }
        self = .tcp(address, port: UInt16(port))
    }

    /// The address for the system's socket calls.
    public var socketAddress: SocketAddress {
        switch self {
        case .unix(let path): return .unix(path)
        case .tcp(let address, let port): return .inet(address.isIPv4 ? Array(address.bytes[12...]) : address.bytes, port: port)
        }
    }

    public var description: String { socketAddress.description }
}
