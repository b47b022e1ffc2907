/// Shortens client addresses before they are stored
/// (`PIXELGATE_ANONYMIZE_IP`): an IPv4 address loses its last octet
/// (`203.0.113.77` → `203.0.113.0`), an IPv6 address its last 80 bits,
/// keeping the 48-bit prefix (`2001:db8:1:2:3:4:5:6` → `2001:db8:1::`), as
/// common analytics tools do. Enough to tell a country or a network, not a
/// household.
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
        // An IPv4 client on a dual-stack socket (`::ffff:203.0.113.77`):
        // shortened as IPv4, not emptied by the IPv6 rule.
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return "::ffff:\(bytes[12]).\(bytes[13]).\(bytes[14]).0"
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
