/// Decodes a query string into one buffer.
///
/// Each name and value is percent- and plus-decoded into memory the caller
/// owns, one after the other; decoding never makes bytes longer, so that
/// memory needs the query's length (and 8 bytes of slack). The result is a
/// list of spans into it: no `String` per pair, no allocation per pair. The
/// rules are SPEC §2. Used by the event builder and, for callers that want
/// `String`s, by `QueryString.parse`.
enum QueryDecoder {
    /// Decodes `raw` into `out`, starting at `out[base]`, appending its pairs
    /// in order; returns where the decoded bytes end. `out` must hold
    /// `base + raw.count + 8` bytes and must not overlap `raw`. Throws the
    /// first problem in query order, as SPEC §4 orders them; callers refuse
    /// an over-long query before decoding it.
    ///
    /// Eight bytes at a time: a block is loaded, stored to the output as it
    /// is, and both positions move past its plain bytes, up to the first one
    /// that needs a look (`specialBytes`). Only that byte is handled alone,
    /// and only tokens that held a byte ≥ 0x80 are checked as UTF-8.
    static func decode(_ raw: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>, at base: Int,
                       limits: PixelLimits, pairs: inout [PairSpans]) throws(PixelError) -> Int {
        guard let p = raw.baseAddress else { return base }
        let end = raw.count
        var r = 0
        var w = base
        while r < end {
            if p[r] == UInt8(ascii: "&") {
                r &+= 1
                continue
            }
            if pairs.count == limits.maxPairs { throw .tooManyPairs(limit: limits.maxPairs) }
            // The name.
            let rawStart = r
            let nameStart = w
            var high = false
            var control = false
            var sawEquals = false
            while let b = copyPlain(p, &r, end, out, &w, inName: true), b != UInt8(ascii: "&") {
                if b == UInt8(ascii: "=") { sawEquals = true; break }
                guard let decoded = decodeSpecial(b, p, &r, end) else {
                    throw .invalidPercentEncodingInName(rawName: quotable(rawName(raw, from: rawStart)))
                }
                if decoded < 0x20 || decoded == 0x7F { control = true } else if decoded >= 0x80 { high = true }
                out[w] = decoded
                w &+= 1
            }
            let name = UnsafeBufferPointer(start: out + nameStart, count: w &- nameStart)
            if high && !UTF8Check.isValid(name) {
                throw .invalidUTF8InName(rawName: quotable(rawName(raw, from: rawStart)))
            }
            if name.count > limits.maxKeyBytes { throw .nameTooLong(prefix: quotable(name), limit: limits.maxKeyBytes) }
            if control { throw .controlCharacterInName(parameter: quotable(name)) }

            // The value, straight after the decoded name.
            if sawEquals { r &+= 1 }
            let valueStart = w
            high = false
            while let b = copyPlain(p, &r, end, out, &w, inName: false), b != UInt8(ascii: "&") {
                guard let decoded = decodeSpecial(b, p, &r, end) else { throw .invalidPercentEncoding(parameter: quotable(name)) }
                if decoded >= 0x80 { high = true }
                out[w] = decoded
                w &+= 1
            }
            let value = UnsafeBufferPointer(start: out + valueStart, count: w &- valueStart)
            if high && !UTF8Check.isValid(value) { throw .invalidUTF8(parameter: quotable(name)) }
            pairs.append(PairSpans(name: ByteSpan(start: nameStart, count: name.count),
                                   value: ByteSpan(start: valueStart, count: value.count)))
        }
        return w
    }

    /// Copies plain bytes from `p[r]` to `out[w]`, a block at a time, and
    /// moves both to the next byte that needs a look; returns that byte, or
    /// nil at the end of the query.
    @inline(__always)
    static func copyPlain(_ p: UnsafePointer<UInt8>, _ r: inout Int, _ end: Int, _ out: UnsafeMutablePointer<UInt8>,
                          _ w: inout Int, inName: Bool) -> UInt8? {
        while true {
            let x = load(p, r, end)
            UnsafeMutableRawPointer(out + w).storeBytes(of: x, as: UInt64.self)
            let special = specialBytes(x, inName: inName)
            let plain = special == 0 ? 8 : special.trailingZeroBitCount &>> 3
            r &+= plain
            w &+= plain
            if plain < 8 { return r < end ? p[r] : nil }
        }
    }

    /// The byte that `b`, at `p[r]`, stands for (`+` a space, `%XX` its
    /// byte, anything else itself), moving `r` past it; nil for a
    /// malformed escape.
    @inline(__always)
    static func decodeSpecial(_ b: UInt8, _ p: UnsafePointer<UInt8>, _ r: inout Int, _ end: Int) -> UInt8? {
        switch b {
        case UInt8(ascii: "+"):
            r &+= 1
            return UInt8(ascii: " ")
        case UInt8(ascii: "%"):
            guard let byte = escape(p, r, end) else { return nil }
            r &+= 3
            return byte
        default:
            r &+= 1
            return b
        }
    }

    /// The eight bytes at `p[r]`; past `end`, zero bytes, which
    /// `specialBytes` flags, so a scan stops at the end of the query.
    @inline(__always)
    static func load(_ p: UnsafePointer<UInt8>, _ r: Int, _ end: Int) -> UInt64 {
        if r &+ 8 <= end { return UnsafeRawPointer(p + r).loadUnaligned(as: UInt64.self) }
        var x: UInt64 = 0
        var i = end &- 1
        while i >= r {
            x = x &<< 8 | UInt64(p[i])
            i &-= 1
        }
        return x
    }

    /// The high bit of each byte of `x` that is not copied as it is: ≤ `+`
    /// (0x2B, which covers `%`, `&`, `+`, control bytes and NUL), ≥ 0x7F,
    /// and in a name `=`. Bytes after the first flagged one may be flagged
    /// too (borrows run upward); the lowest flag is always exact.
    @inline(__always)
    static func specialBytes(_ x: UInt64, inName: Bool) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let del = x ^ 0x7F7F_7F7F_7F7F_7F7F
        var flagged = ((x &- 0x2C2C_2C2C_2C2C_2C2C) & ~x) | ((del &- ones) & ~del) | x
        if inName {
            let equals = x ^ 0x3D3D_3D3D_3D3D_3D3D
            flagged |= (equals &- ones) & ~equals
        }
        return flagged & 0x8080_8080_8080_8080
    }

    /// The byte of the escape `%XX` at `r`, or nil when it is malformed.
    @inline(__always)
    static func escape(_ p: UnsafePointer<UInt8>, _ r: Int, _ end: Int) -> UInt8? {
        guard r + 2 < end, let hi = hexValue(p[r + 1]), let lo = hexValue(p[r + 2]) else { return nil }
        return hi << 4 | lo
    }

    /// The undecoded name starting at `start` in the raw query, for messages.
    static func rawName(_ raw: UnsafeBufferPointer<UInt8>, from start: Int) -> ArraySlice<UInt8> {
        var stop = start
        while stop < raw.count && raw[stop] != UInt8(ascii: "=") && raw[stop] != UInt8(ascii: "&") { stop += 1 }
        return Array(raw[start..<stop])[...]
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
