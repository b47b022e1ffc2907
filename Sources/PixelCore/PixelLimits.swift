/// Bounds on what one query may ask of the server.
///
/// Every field exists to keep the work and memory of one request in
/// proportion to the bytes the client sent; without them a short query could
/// build a deep or wide JSON tree (`a.9999999=x`, thousands of pairs).
public struct PixelLimits: Sendable, Equatable {
    /// Longest query string accepted, in bytes (default 16 KiB). Longer → 414.
    /// Also caps the size of every event, since every event byte comes from it.
    public var maxQueryBytes: Int
    /// Most non-empty `name=value` pairs (default 256).
    public var maxPairs: Int
    /// Longest parameter name after decoding, in bytes (default 256).
    public var maxKeyBytes: Int
    /// Most dot-separated segments in one name (default 16): bounds nesting
    /// depth, so encoding never recurses deeply.
    public var maxDepth: Int
    /// Highest array index a digit segment may use (default 255): without it
    /// `a.99999999=x` would allocate a hundred million nulls.
    public var maxArrayIndex: Int

    public init(
        maxQueryBytes: Int = 16 * 1024,
        maxPairs: Int = 256,
        maxKeyBytes: Int = 256,
        maxDepth: Int = 16,
        maxArrayIndex: Int = 255
    ) {
        self.maxQueryBytes = maxQueryBytes
        self.maxPairs = maxPairs
        self.maxKeyBytes = maxKeyBytes
        self.maxDepth = maxDepth
        self.maxArrayIndex = maxArrayIndex
    }

    public static let `default` = PixelLimits()
}
