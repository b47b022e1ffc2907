/// One decoded `name=value` pair of a query string.
public struct QueryPair: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Splits and decodes `application/x-www-form-urlencoded` query strings.
public enum QueryString {
    /// Decodes `query` into pairs, in order.
    ///
    /// Pairs split on `&` (`;` is data); a pair splits at its first `=`;
    /// a name without `=` gets `""`; empty pairs are skipped. `+` is a space
    /// and `%XX` a byte in names and values. A malformed escape, bytes that
    /// are not UTF-8, or a name over the limits throws. Work is linear in
    /// the query's length.
    public static func parse(_ query: UnsafeBufferPointer<UInt8>, limits: PixelLimits = .default) throws(PixelError) -> [QueryPair] {
        if query.count > limits.maxQueryBytes { throw .queryTooLong(limit: limits.maxQueryBytes) }
        var pairs: [QueryPair] = []
        var scratch: [UInt8] = []
        var start = 0
        let end = query.count
        while start <= end {
            var stop = start
            while stop < end && query[stop] != UInt8(ascii: "&") { stop += 1 }
            if stop > start {
                if pairs.count == limits.maxPairs { throw .tooManyPairs(limit: limits.maxPairs) }
                pairs.append(try decodePair(UnsafeBufferPointer(rebasing: query[start..<stop]), limits: limits, scratch: &scratch))
            }
            start = stop + 1
        }
        return pairs
    }

    /// Convenience for tests and callers holding a `String`.
    public static func parse(_ query: String, limits: PixelLimits = .default) throws(PixelError) -> [QueryPair] {
        let bytes = Array(query.utf8)
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(PixelError) -> [QueryPair] in try parse(buffer, limits: limits) }
        }
        return try result.get()
    }

    static func decodePair(_ pair: UnsafeBufferPointer<UInt8>, limits: PixelLimits, scratch: inout [UInt8]) throws(PixelError) -> QueryPair {
        var eq = 0
        while eq < pair.count && pair[eq] != UInt8(ascii: "=") { eq += 1 }
        let rawName = UnsafeBufferPointer(rebasing: pair[0..<eq])
        let rawValue = eq < pair.count ? UnsafeBufferPointer(rebasing: pair[(eq + 1)...]) : UnsafeBufferPointer(rebasing: pair[0..<0])

        let name: String
        switch decode(rawName, scratch: &scratch) {
        case .ok(let s): name = s
        case .badEscape: throw .invalidPercentEncodingInName(rawName: quotable(rawName))
        case .badUTF8: throw .invalidUTF8InName(rawName: quotable(rawName))
        }
        if name.utf8.count > limits.maxKeyBytes {
            throw .nameTooLong(prefix: quotable(name.utf8), limit: limits.maxKeyBytes)
        }
        if name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw .controlCharacterInName(parameter: quotable(name.utf8))
        }
        switch decode(rawValue, scratch: &scratch) {
        case .ok(let value): return QueryPair(name: name, value: value)
        case .badEscape: throw .invalidPercentEncoding(parameter: quotable(name.utf8))
        case .badUTF8: throw .invalidUTF8(parameter: quotable(name.utf8))
        }
    }

    enum Decoded {
        case ok(String)
        case badEscape
        case badUTF8
    }

    /// Percent- and plus-decodes `raw`, then checks the bytes are UTF-8.
    static func decode(_ raw: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8]) -> Decoded {
        // Most names and many values need no decoding: take them as they are.
        var needsDecoding = false
        for b in raw where b == UInt8(ascii: "%") || b == UInt8(ascii: "+") {
            needsDecoding = true
            break
        }
        if !needsDecoding {
            guard let s = String(validating: raw, as: UTF8.self) else { return .badUTF8 }
            return .ok(s)
        }
        scratch.removeAll(keepingCapacity: true)
        var i = 0
        while i < raw.count {
            let b = raw[i]
            if b == UInt8(ascii: "+") {
                scratch.append(UInt8(ascii: " "))
                i += 1
            } else if b == UInt8(ascii: "%") {
                guard i + 2 < raw.count, let hi = hexValue(raw[i + 1]), let lo = hexValue(raw[i + 2]) else {
                    return .badEscape
                }
                scratch.append(hi << 4 | lo)
                i += 3
            } else {
                scratch.append(b)
                i += 1
            }
        }
        guard let s = String(validating: scratch, as: UTF8.self) else { return .badUTF8 }
        return .ok(s)
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
