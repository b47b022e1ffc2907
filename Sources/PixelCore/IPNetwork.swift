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
