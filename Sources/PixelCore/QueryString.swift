/// Splits and decodes `application/x-www-form-urlencoded` query strings.
public enum QueryString {
    /// Decodes `query` into pairs, in order.
    ///
    /// Pairs split on `&` (`;` is data); a pair splits at its first `=`;
    /// a name without `=` gets `""`; empty pairs are skipped. `+` is a space
    /// and `%XX` a byte in names and values. A malformed escape, bytes that
    /// are not UTF-8, or a name over the limits throws. Work is linear in
    /// the query's length. The event builder uses the same decoding
    /// (`QueryDecoder`) without making `String`s.
    public static func parse(_ query: UnsafeBufferPointer<UInt8>, limits: PixelLimits = .default) throws(PixelError) -> [QueryPair] {
        if query.count > limits.maxQueryBytes { throw .queryTooLong(limit: limits.maxQueryBytes) }
        var bytes = [UInt8](repeating: 0, count: query.count + 8)
        var pairs: [PairSpans] = []
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(PixelError) in
            _ = try QueryDecoder.decode(query, into: buffer.baseAddress!, at: 0, limits: limits, pairs: &pairs)
        }
        return pairs.map { pair in
            QueryPair(name: String(decoding: bytes[pair.name.range], as: UTF8.self),
                      value: String(decoding: bytes[pair.value.range], as: UTF8.self))
        }
    }

    /// Convenience for tests and callers holding a `String`.
    public static func parse(_ query: String, limits: PixelLimits = .default) throws(PixelError) -> [QueryPair] {
        let bytes = Array(query.utf8)
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(PixelError) -> [QueryPair] in try parse(buffer, limits: limits) }
        }
        return try result.get()
    }
}
