/// A strict JSON syntax check (RFC 8259) over bytes, without building values.
/// Strings are checked in place (escapes, no raw control bytes, UTF-8); only
/// the spool line's write key is decoded.
public enum JSONSyntax {
    /// How deep a value may nest: deeper than any event pixelgate writes
    /// (the deepest name `PIXELGATE_MAX_DEPTH` allows, inside `properties`,
    /// `event` and the record), so that every line the spool takes reads
    /// back; a bound all the same, so that no line recurses without end.
    static let maxDepth = PixelLimits.maxDepthBounds.upperBound + 8

    /// Whether `bytes` is exactly one JSON value (surrounding spaces allowed).
    public static func isValid(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            guard let end = value(b, at: skipSpace(b, 0), depth: 0) else { return false }
            return skipSpace(b, end) == b.count
        }
    }

    static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var i = i
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// The index after the value starting at `i`, or nil.
    static func value(_ b: UnsafeBufferPointer<UInt8>, at i: Int, depth: Int) -> Int? {
        guard i < b.count, depth < maxDepth else { return nil }
        switch b[i] {
        case UInt8(ascii: "{"):
            var j = skipSpace(b, i + 1)
            if j < b.count, b[j] == UInt8(ascii: "}") { return j + 1 }
            while true {
                guard let afterKey = skipString(b, at: j) else { return nil }
                j = skipSpace(b, afterKey)
                guard j < b.count, b[j] == UInt8(ascii: ":") else { return nil }
                guard let afterValue = value(b, at: skipSpace(b, j + 1), depth: depth + 1) else { return nil }
                j = skipSpace(b, afterValue)
                guard j < b.count else { return nil }
                if b[j] == UInt8(ascii: "}") { return j + 1 }
                guard b[j] == UInt8(ascii: ",") else { return nil }
                j = skipSpace(b, j + 1)
            }
        case UInt8(ascii: "["):
            var j = skipSpace(b, i + 1)
            if j < b.count, b[j] == UInt8(ascii: "]") { return j + 1 }
            while true {
                guard let afterValue = value(b, at: j, depth: depth + 1) else { return nil }
                j = skipSpace(b, afterValue)
                guard j < b.count else { return nil }
                if b[j] == UInt8(ascii: "]") { return j + 1 }
                guard b[j] == UInt8(ascii: ",") else { return nil }
                j = skipSpace(b, j + 1)
            }
        case UInt8(ascii: "\""):
            return skipString(b, at: i)
        case UInt8(ascii: "t"): return literal(b, i, "true")
        case UInt8(ascii: "f"): return literal(b, i, "false")
        case UInt8(ascii: "n"): return literal(b, i, "null")
        default: return number(b, at: i)
        }
    }

    static func literal(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ word: StaticString) -> Int? {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count, memoryEqual(b.baseAddress! + i, word.utf8Start, n) else { return nil }
        return i + n
    }

    static func number(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        var j = i
        func digits() -> Bool {
            let start = j
            while j < b.count, b[j] >= 0x30, b[j] <= 0x39 { j += 1 }
            return j > start
        }
        if j < b.count, b[j] == UInt8(ascii: "-") { j += 1 }
        if j < b.count, b[j] == UInt8(ascii: "0") { j += 1 } else if !digits() { return nil }
        if j < b.count, b[j] == UInt8(ascii: ".") { j += 1; guard digits() else { return nil } }
        if j < b.count, b[j] == UInt8(ascii: "e") || b[j] == UInt8(ascii: "E") {
            j += 1
            if j < b.count, b[j] == UInt8(ascii: "+") || b[j] == UInt8(ascii: "-") { j += 1 }
            guard digits() else { return nil }
        }
        return j
    }

    /// The index after the JSON string at `i`, checked but not decoded:
    /// valid escapes, no raw control bytes, UTF-8 bytes that are valid.
    static func skipString(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        var j = i + 1
        var high = false
        let base = b.baseAddress!
        while j < b.count {
            // Eight plain bytes at a time (none `"`, `\`, < 0x20 or ≥ 0x80).
            if j + 8 <= b.count {
                let x = UnsafeRawPointer(base + j).loadUnaligned(as: UInt64.self)
                if JSONWriter.escapeBytes(x) == 0 && x & 0x8080_8080_8080_8080 == 0 {
                    j += 8
                    continue
                }
            }
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                if high && !UTF8Check.isValid(UnsafeBufferPointer(rebasing: b[(i + 1)..<j])) { return nil }
                return j + 1
            }
            if c < 0x20 { return nil }
            if c >= 0x80 { high = true }
            if c == UInt8(ascii: "\\") {
                guard j + 1 < b.count else { return nil }
                switch b[j + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    j += 2
                case UInt8(ascii: "u"):
                    guard j + 5 < b.count else { return nil }
                    for k in 2...5 where QueryDecoder.hexValue(b[j + k]) == nil { return nil }
                    j += 6
                default: return nil
                }
                continue
            }
            j += 1
        }
        return nil
    }

    /// A JSON string at `i`: its decoded value and the index after it.
    /// `skipString` checks it; this only decodes what passed.
    static func string(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (String, Int)? {
        guard let after = skipString(b, at: i) else { return nil }
        var out: [UInt8] = []
        var j = i + 1
        while j < after - 1 {
            guard b[j] == UInt8(ascii: "\\") else {
                out.append(b[j])
                j += 1
                continue
            }
            let e = b[j + 1]
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v: UInt32 = 0
                for k in 2...5 { v = v << 4 | UInt32(QueryDecoder.hexValue(b[j + k])!) }
                // Keys and values we write only escape control characters;
                // keep others as the scalar, or U+FFFD for a lone surrogate.
                out.append(contentsOf: String(Character(Unicode.Scalar(v) ?? "\u{FFFD}")).utf8)
                j += 4
            default: out.append(e)  // `"`, `\\` or `/`
            }
            j += 2
        }
        return (String(decoding: out, as: UTF8.self), after)
    }
}

extension JSONSyntax {
    /// The members of a flat JSON object whose values are all strings, in
    /// order (`{"a":"x","b":"y"}`); nil for anything else. For records of
    /// fixed shape, such as the refused-event records of older versions.
    public static func stringMembers(_ bytes: ArraySlice<UInt8>) -> [(name: String, value: String)]? {
        bytes.withUnsafeBufferPointer { b -> [(name: String, value: String)]? in
            var i = skipSpace(b, 0)
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
            i = skipSpace(b, i + 1)
            var members: [(name: String, value: String)] = []
            while i < b.count, b[i] == UInt8(ascii: "\"") {
                guard let (name, afterName) = string(b, at: i) else { return nil }
                i = skipSpace(b, afterName)
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                guard let (value, afterValue) = string(b, at: skipSpace(b, i + 1)) else { return nil }
                members.append((name, value))
                i = skipSpace(b, afterValue)
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") { i = skipSpace(b, i + 1) }
            }
            guard i < b.count, b[i] == UInt8(ascii: "}"), skipSpace(b, i + 1) == b.count else { return nil }
            return members
        }
    }
}
