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
