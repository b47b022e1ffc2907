/// An IPv4 or IPv6 address as 16 bytes (IPv4 mapped into `::ffff:0:0/96`).
public struct IPAddress: Sendable, Equatable, Hashable {
    public var bytes: [UInt8]
    public var isIPv4: Bool

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an
    /// embedded IPv4 tail). A zone (`%eth0`) or brackets are not accepted.
    public init?(_ text: Substring) {
        if let v4 = IPAddress.parseIPv4(text) {
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + v4
            isIPv4 = true
        } else if let v6 = IPAddress.parseIPv6(text) {
            bytes = v6
            isIPv4 = false
        } else {
            return nil
        }
    }

    public init?(_ text: String) { self.init(Substring(text)) }

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.utf8.count <= 3, part.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let v = Int(part), v <= 255 else { return nil }
            out.append(UInt8(v))
        }
        return out.count == 4 ? out : nil
    }

    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        guard text.contains(":") else { return nil }
        let halves = text.components(separatedByDoubleColon: ())
        guard halves.count <= 2 else { return nil }
        func groups(_ s: Substring) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() {
                if i == parts.count - 1, part.contains(".") {
                    guard let v4 = parseIPv4(part) else { return nil }
                    out += v4
                    continue
                }
                guard !part.isEmpty, part.utf8.count <= 4, let v = UInt16(part, radix: 16) else { return nil }
                out += [UInt8(v >> 8), UInt8(v & 0xFF)]
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

extension Substring {
    /// Splits at each `::` (IPv6 zero compression).
    fileprivate func components(separatedByDoubleColon: ()) -> [Substring] {
        var out: [Substring] = []
        var start = startIndex
        var i = startIndex
        while i < endIndex {
            let next = index(after: i)
            if self[i] == ":", next < endIndex, self[next] == ":" {
                out.append(self[start..<i])
                start = index(after: next)
                i = start
            } else {
                i = next
            }
        }
        out.append(self[start..<endIndex])
        return out
    }
}

/// An address range in CIDR form (`10.0.0.0/8`, `fd00::/8`), or one address.
public struct IPNetwork: Sendable, Equatable {
    public var address: IPAddress
    /// Prefix length over the 16-byte form (IPv4 prefixes are offset by 96).
    public var prefixBits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let maxBits = address.isIPv4 ? 32 : 128
        var bits = maxBits
        if parts.count == 2 {
            guard let b = Int(parts[1]), b >= 0, b <= maxBits, parts[1].allSatisfy(\.isNumber) else { return nil }
            bits = b
        }
        self.address = address
        self.prefixBits = bits + (address.isIPv4 ? 96 : 0)
    }

    public func contains(_ other: IPAddress) -> Bool {
        var remaining = prefixBits
        for i in 0..<16 where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if address.bytes[i] & mask != other.bytes[i] & mask { return false }
            remaining -= 8
        }
        return true
    }
}

/// Decides which address a hit came from.
public enum ClientAddress {
    /// `remoteAddr`, unless it is a trusted proxy: then the right-most
    /// `X-Forwarded-For` entry that is not a trusted proxy. Entries left of
    /// that are the client's own claims and are never believed. When every
    /// entry is trusted, the left-most one; when the chosen entry is not an
    /// address, the proxy that reported it.
    public static func resolve(remoteAddr: String, forwardedFor: String?, trusted: [IPNetwork]) -> String {
        guard !trusted.isEmpty, let forwardedFor, let remote = IPAddress(remoteAddr),
              trusted.contains(where: { $0.contains(remote) }) else { return remoteAddr }
        var reporter = remoteAddr
        let entries = forwardedFor.split(separator: ",").map { $0.trimmingSpaces() }
        for entry in entries.reversed() where !entry.isEmpty {
            guard let address = IPAddress(entry) else { return reporter }
            if !trusted.contains(where: { $0.contains(address) }) { return String(entry) }
            reporter = String(entry)
        }
        return reporter
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
