/// A run of bytes in a `QueryDecoder`'s buffer.
struct ByteSpan: Equatable {
    var start: Int32
    var count: Int32

    init(start: Int, count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }

    var range: Range<Int> { Int(start)..<Int(start + count) }
}

/// One decoded pair, as spans of the decoder's buffer.
struct PairSpans {
    var name: ByteSpan
    var value: ByteSpan
}

/// Decodes a query string in place, in one buffer.
///
/// The caller copies the raw query into memory it owns; each name and value
/// is then percent- and plus-decoded where it lies, since decoding never
/// makes bytes longer. The result is a list of spans into that memory: no
/// `String` per pair, no allocation per pair. The rules are SPEC §2. Used
/// by the event builder and, for callers that want `String`s, by
/// `QueryString.parse`.
enum QueryDecoder {
    /// Decodes `p[base..<end]`, a copy of `raw`, appending its pairs in
    /// order. Throws the first problem in query order, as SPEC §4 orders
    /// them; callers refuse an over-long query before copying it.
    ///
    /// One pass over the bytes: each is looked at once, written back at most
    /// once, and only tokens that held a byte ≥ 0x80 are checked as UTF-8.
    static func decode(_ p: UnsafeMutablePointer<UInt8>, from base: Int, to end: Int, raw: UnsafeBufferPointer<UInt8>,
                       limits: PixelLimits, into pairs: inout [PairSpans]) throws(PixelError) {
        var r = base
        while r < end {
            if p[r] == UInt8(ascii: "&") {
                r &+= 1
                continue
            }
            if pairs.count == limits.maxPairs { throw .tooManyPairs(limit: limits.maxPairs) }
            // The name: decoded over its own raw bytes (decoding never grows).
            let nameStart = r
            var w = r
            var high = false
            var control = false
            var sawEquals = false
            var blockEnd = r
            name: while r < end {
                if copyPlainBlock(p, &r, &w, end, &blockEnd, inName: true) { continue }
                let b = p[r]
                if b > UInt8(ascii: "+") && b < 0x7F && b != UInt8(ascii: "=") {
                    p[w] = b
                    w &+= 1
                    r &+= 1
                    continue
                }
                if b == UInt8(ascii: "&") { break name }
                if b == UInt8(ascii: "=") { sawEquals = true; break name }
                var out = b
                if b == UInt8(ascii: "+") {
                    out = UInt8(ascii: " ")
                    r &+= 1
                } else if b == UInt8(ascii: "%") {
                    guard let decoded = escape(p, r, end) else {
                        throw .invalidPercentEncodingInName(rawName: quotable(rawName(raw, from: nameStart - base)))
                    }
                    out = decoded
                    r &+= 3
                } else {
                    r &+= 1
                }
                if out < 0x20 || out == 0x7F { control = true } else if out >= 0x80 { high = true }
                p[w] = out
                w &+= 1
            }
            let name = UnsafeBufferPointer(start: p + nameStart, count: w - nameStart)
            if high && !UTF8Check.isValid(name) {
                throw .invalidUTF8InName(rawName: quotable(rawName(raw, from: nameStart - base)))
            }
            if name.count > limits.maxKeyBytes { throw .nameTooLong(prefix: quotable(name), limit: limits.maxKeyBytes) }
            if control { throw .controlCharacterInName(parameter: quotable(name)) }

            // The value: written straight after the decoded name.
            if sawEquals { r &+= 1 }
            let valueStart = w
            high = false
            blockEnd = r
            value: while r < end {
                if copyPlainBlock(p, &r, &w, end, &blockEnd, inName: false) { continue }
                let b = p[r]
                if b > UInt8(ascii: "+") && b < 0x7F {
                    p[w] = b
                    w &+= 1
                    r &+= 1
                    continue
                }
                if b == UInt8(ascii: "&") { break value }
                var out = b
                if b == UInt8(ascii: "+") {
                    out = UInt8(ascii: " ")
                    r &+= 1
                } else if b == UInt8(ascii: "%") {
                    guard let decoded = escape(p, r, end) else { throw .invalidPercentEncoding(parameter: quotable(name)) }
                    out = decoded
                    r &+= 3
                } else {
                    r &+= 1
                }
                if out >= 0x80 { high = true }
                p[w] = out
                w &+= 1
            }
            let value = UnsafeBufferPointer(start: p + valueStart, count: w - valueStart)
            if high && !UTF8Check.isValid(value) { throw .invalidUTF8(parameter: quotable(name)) }
            pairs.append(PairSpans(name: ByteSpan(start: nameStart, count: name.count),
                                   value: ByteSpan(start: valueStart, count: value.count)))
        }
    }

    /// Eight plain bytes at a time: when the block at `r` holds only bytes
    /// copied as they are, moves it to `w` and advances both. Otherwise the
    /// next eight bytes are left to the byte-at-a-time path (`blockEnd`).
    @inline(__always)
    static func copyPlainBlock(_ p: UnsafeMutablePointer<UInt8>, _ r: inout Int, _ w: inout Int, _ end: Int,
                               _ blockEnd: inout Int, inName: Bool) -> Bool {
        guard r >= blockEnd else { return false }
        if r &+ 8 <= end {
            let x = UnsafeRawPointer(p + r).loadUnaligned(as: UInt64.self)
            if isPlain(x, inName: inName) {
                UnsafeMutableRawPointer(p + w).storeBytes(of: x, as: UInt64.self)
                r &+= 8
                w &+= 8
                return true
            }
        }
        blockEnd = r &+ 8
        return false
    }

    /// Whether all eight bytes in `x` are copied as they are: none ≤ `+`
    /// (0x2B, which covers `%`, `&`, `+` and control bytes), none ≥ 0x7F, and
    /// in a name no `=`. (A byte after a match may be flagged too; callers
    /// then go byte by byte.)
    @inline(__always)
    static func isPlain(_ x: UInt64, inName: Bool) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let del = x ^ 0x7F7F_7F7F_7F7F_7F7F
        var flagged = ((x &- 0x2C2C_2C2C_2C2C_2C2C) & ~x) | ((del &- ones) & ~del) | x
        if inName {
            let equals = x ^ 0x3D3D_3D3D_3D3D_3D3D
            flagged |= (equals &- ones) & ~equals
        }
        return flagged & 0x8080_8080_8080_8080 == 0
    }

    /// The byte of the escape `%XX` at `r`, or nil when it is malformed.
    @inline(__always)
    static func escape(_ p: UnsafeMutablePointer<UInt8>, _ r: Int, _ end: Int) -> UInt8? {
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

/// Strict UTF-8 validation (Unicode Table 3-7): no overlong forms, no
/// surrogates, nothing past U+10FFFF. The same bytes `String(validating:)`
/// accepts, without building a `String`.
enum UTF8Check {
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = bytes.baseAddress else { return true }
        let n = bytes.count
        var i = 0
        while i < n {
            // Eight ASCII bytes at a time: the common case.
            if i + 8 <= n, UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            let b0 = p[i]
            if b0 < 0x80 {
                i += 1
            } else if b0 < 0xC2 {
                return false
            } else if b0 < 0xE0 {
                guard i + 1 < n, p[i + 1] & 0xC0 == 0x80 else { return false }
                i += 2
            } else if b0 < 0xF0 {
                guard i + 2 < n else { return false }
                let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
                let hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
                guard p[i + 1] >= lo, p[i + 1] <= hi, p[i + 2] & 0xC0 == 0x80 else { return false }
                i += 3
            } else if b0 < 0xF5 {
                guard i + 3 < n else { return false }
                let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
                let hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
                guard p[i + 1] >= lo, p[i + 1] <= hi, p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 else { return false }
                i += 4
            } else {
                return false
            }
        }
        return true
    }
}
