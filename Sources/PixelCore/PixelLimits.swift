/// Bounds on what one query may ask of the server.
///
/// Every field exists to keep the work and memory of one request in
/// proportion to the bytes the client sent; without them a short query could
/// build a deep or wide JSON tree (`a.9999999=x`, thousands of pairs).
public struct PixelLimits: Sendable, Equatable {
    /// Longest query string accepted, in bytes (default 16 KiB). Longer → 414.
    /// It does not cap the event: array gaps become `null`s and escapes
    /// grow, so a short query can ask for a much larger event.
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
    /// Largest event, as JSON, in bytes (default 64 KiB); larger → 400
    /// `event too large`. Kept below the data plane's 4,000 KB request
    /// limit, so every accepted event can be delivered; without it a 2.7 KB
    /// query of `p.N.255=x` pairs makes a 324 KB event.
    public var maxEventBytes: Int

    /// The highest `maxEventBytes` a setting may ask for: an event and its
    /// batch wrapper stay under the data plane's 4,000 KB.
    public static let eventBytesCeiling = 3_900_000

    public init(
        maxQueryBytes: Int = 16 * 1024,
        maxPairs: Int = 256,
        maxKeyBytes: Int = 256,
        maxDepth: Int = 16,
        maxArrayIndex: Int = 255,
        maxEventBytes: Int = 64 * 1024
    ) {
        self.maxQueryBytes = maxQueryBytes
        self.maxPairs = maxPairs
        self.maxKeyBytes = maxKeyBytes
        self.maxDepth = maxDepth
        self.maxArrayIndex = maxArrayIndex
        self.maxEventBytes = maxEventBytes
    }

    public static let `default` = PixelLimits()
}
