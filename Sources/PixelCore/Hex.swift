/// Lowercase hexadecimal digits, for the writers of hex text: JSON's
/// `\u00XX` escapes, SHA-256 signatures and UUIDs.
enum Hex {
    @usableFromInline static let digits: StaticString = "0123456789abcdef"
}

extension Hex {
    /// The uppercase digit for a value under 16, as percent-encoding writes it.
    static func upper(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
