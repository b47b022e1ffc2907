/// Shortens client addresses before they are stored
/// (`PIXELGATE_ANONYMIZE_IP`): an IPv4 address loses its last octet
/// (`203.0.113.77` → `203.0.113.0`), an IPv6 address its last 80 bits,
/// keeping the 48-bit prefix (`2001:db8:1:2:3:4:5:6` → `2001:db8:1::`), as
/// common analytics tools do. Enough to tell a country or a network, not a
/// household.
///
/// An IPv6 address that carries an IPv4 address inside has that IPv4
/// shortened instead, since a 48-bit prefix can hold all of it: 6to4
/// (`2002:cb00:714d::1` holds 203.0.113.77 in bits 16–47), Teredo (the
/// client's address inverted in the last 32 bits), NAT64's well-known
/// prefix `64:ff9b::/96`, IPv4-compatible `::a.b.c.d` and IPv4-mapped
/// `::ffff:a.b.c.d` (RFC 3056, 4380, 6052, 4291).
public enum AddressAnonymizer {
    /// The shortened address, or nil when `text` is not an address (then
    /// nothing of it should be stored).
    public static func anonymized(_ text: String) -> String? {
        let trimmed = Substring(text).trimmingSpaces()
        if let v4 = IPAddress.parseIPv4(trimmed) {
            return "\(v4[0]).\(v4[1]).\(v4[2]).0"
        }
        guard let address = IPAddress(trimmed) else { return nil }
        var bytes = address.bytes
        func v4Tail(_ prefix: String) -> String { "\(prefix)\(bytes[12]).\(bytes[13]).\(bytes[14]).0" }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            // An IPv4 client on a dual-stack socket: shortened as IPv4.
            return v4Tail("::ffff:")
        }
        if bytes[0..<12].allSatisfy({ $0 == 0 }) {
            // IPv4-compatible (`::a.b.c.d`); `::` and `::1` come out as `::`, no one's.
            return bytes[12..<16].allSatisfy({ $0 == 0 }) || bytes[12..<15].allSatisfy({ $0 == 0 }) ? "::" : v4Tail("::")
        }
        if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xFF && bytes[3] == 0x9B && bytes[4..<12].allSatisfy({ $0 == 0 }) {
            // NAT64's well-known prefix: the IPv4 server the client reached through it.
            return v4Tail("64:ff9b::")
        }
        if bytes[0] == 0x20 && bytes[1] == 0x02 {
            // 6to4: the IPv4 is bytes 2–5; keep three of its octets.
            for i in 5..<16 { bytes[i] = 0 }
            return IPAddress.ipv6Text(bytes)
        }
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0 && bytes[3] == 0 {
            // Teredo: prefix and the Teredo server's IPv4 (bytes 4–7) stay;
            // flags and the inverted port go; the client's inverted IPv4
            // keeps three octets (its last, inverted, becomes 0xff).
            for i in 8..<12 { bytes[i] = 0 }
            bytes[15] = 0xFF
            return IPAddress.ipv6Text(bytes)
        }
        for i in 6..<16 { bytes[i] = 0 }
        return IPAddress.ipv6Text(bytes)
    }
}

extension IPAddress {
    /// RFC 5952 text: lowercase hex, no leading zeros, the longest run of
    /// two or more zero groups (the first of equals) written `::`.
    static func ipv6Text(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0
        var i = 0
        while i < 8 {
            guard groups[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > bestLength && j - i >= 2 { bestStart = i; bestLength = j - i }
            i = j
        }
        func hex(_ range: Range<Int>) -> String { groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
