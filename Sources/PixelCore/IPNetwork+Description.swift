/// A network as `pixelgate check` shows a trusted proxy: `address/bits`,
/// an IPv4 network in dotted form with its IPv4-mapped prefix taken off.
extension IPNetwork: CustomStringConvertible {
    public var description: String {
        if address.isIPv4 {
            return address.bytes[12...].map(String.init).joined(separator: ".") + "/\(prefixBits - 96)"
        }
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(address.bytes[i]) << 8 | UInt16(address.bytes[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":") + "/\(prefixBits)"
    }
}
