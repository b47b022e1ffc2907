/// Bounds on what one query may ask of the server.
///
/// They keep the work and memory of one request bounded, each in its own
/// way: `maxQueryBytes` bounds the bytes read and decoded; `maxPairs`,
/// `maxKeyBytes`, `maxDepth` and `maxArrayIndex` bound the shape of the JSON
/// tree those bytes may build (without them a short query could ask for a
/// deep or wide one: `a.9999999=x`, thousands of pairs). None of these caps
/// the size of the event: array gaps become `null`s and escapes grow, so a
/// query within all of them can ask for an event many times its own length.
/// Only `maxEventBytes` caps that, checked once the event is built.
///
/// Each limit is a setting (`PIXELGATE_MAX_…`); the `…Bounds` beside it are
/// the values a setting may give it, and say why.
public struct PixelLimits: Sendable, Equatable {
    /// Longest query string accepted, in bytes (default 16 KiB). Longer → 414.
    /// It does not cap the event: array gaps become `null`s and escapes
    /// grow, so a short query can ask for a much larger event.
    public var maxQueryBytes: Int
    /// `PIXELGATE_MAX_QUERY_BYTES` may give 64 bytes to 1 MiB. Below 64 no
    /// real hit (a write key and an event name) fits. Above 1 MiB no web
    /// server passes such a request line anyway, and `serve` lets every
    /// connection buffer about twice this much for its FastCGI parameters.
    public static let maxQueryBytesBounds: ClosedRange<Int> = 64...(1 << 20)

    /// Most non-empty `name=value` pairs (default 256).
    public var maxPairs: Int
    /// `PIXELGATE_MAX_PAIRS` may give 1 to 10,000. At least one, or every
    /// hit is refused; at most 10,000, because each pair adds decoding,
    /// placing and memory to the request, and real pixels send tens.
    public static let maxPairsBounds: ClosedRange<Int> = 1...10_000

    /// Longest parameter name after decoding, in bytes (default 256).
    public var maxKeyBytes: Int
    /// `PIXELGATE_MAX_KEY_BYTES` may give 8 to 4096 bytes: a floor so that a
    /// slip (`1`) does not refuse every named parameter, and a ceiling far
    /// above any real name (the longest dotted paths are tens of bytes).
    public static let maxKeyBytesBounds: ClosedRange<Int> = 8...4096

    /// Most dot-separated segments in one name (default 16): bounds nesting
    /// depth, so encoding never recurses deeply.
    public var maxDepth: Int
    /// `PIXELGATE_MAX_DEPTH` may give 1 to 64: at least the one segment of a
    /// plain name, and at most 64 levels, which keeps that recursion shallow
    /// whatever is set.
    public static let maxDepthBounds: ClosedRange<Int> = 1...64

    /// Highest array index a digit segment may use (default 255): without it
    /// `a.99999999=x` would allocate a hundred million nulls.
    public var maxArrayIndex: Int
    /// `PIXELGATE_MAX_ARRAY_INDEX` may give 0 (digit segments name only the
    /// first element) to 10,000, since every index below the one named is
    /// filled with a `null` the event carries.
    public static let maxArrayIndexBounds: ClosedRange<Int> = 0...10_000

    /// Largest event, as JSON, in bytes (default 64 KiB); larger → 400
    /// `event too large`. Kept below the data plane's 4,000 KB request
    /// limit, so every accepted event can be delivered; without it a 2.7 KB
    /// query of `p.N.255=x` pairs makes a 324 KB event. This, not
    /// `maxQueryBytes`, is what caps the size of every event spooled or sent.
    public var maxEventBytes: Int
    /// The highest `maxEventBytes` a setting may ask for: an event and its
    /// batch wrapper stay under the data plane's 4,000 KB.
    public static let eventBytesCeiling = 3_900_000
    /// `PIXELGATE_MAX_EVENT_BYTES` may give 1 KiB to `eventBytesCeiling`.
    /// Below 1 KiB the fields the server adds to every event (ids, four
    /// timestamps, the context) leave little or no room for the query's own.
    public static let maxEventBytesBounds: ClosedRange<Int> = 1024...eventBytesCeiling

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
