/// Lowercase hexadecimal digits, for the writers of hex text: JSON's
/// `\u00XX` escapes, SHA-256 signatures and UUIDs.
enum Hex {
    @usableFromInline static let digits: StaticString = "0123456789abcdef"
}
