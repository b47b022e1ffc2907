/// A spool line taken apart: `{"writeKey":"…","event":{…}}`.
public struct SpoolLine: Sendable, Equatable {
    public var writeKey: String
    /// Where the event object sits in the line.
    public var eventRange: Range<Int>

    /// Parses one line (without its newline). Nil for anything that is not
    /// exactly a spool record with a well-formed JSON event: a torn line
    /// left by a killed writer must never be sent as an event.
    public static func parse(_ line: ArraySlice<UInt8>) -> SpoolLine? {
        let prefix = PixelEvent.recordPrefix
        guard line.count > prefix.count + 12, line.starts(with: prefix) else { return nil }
        var i = line.startIndex + prefix.count
        guard let (writeKey, afterKey) = JSONSyntax.string(line, at: i) else { return nil }
        i = afterKey
        let middle = PixelEvent.recordMiddle
        guard line[i...].starts(with: middle) else { return nil }
        i += middle.count
        guard i < line.endIndex, line[i] == UInt8(ascii: "{"),
              let end = JSONSyntax.value(line, at: i, depth: 0), end == line.endIndex - 1,
              line[end] == UInt8(ascii: "}") else { return nil }
        return SpoolLine(writeKey: writeKey, eventRange: i..<end)
    }
}

/// A strict JSON syntax check (RFC 8259) over bytes, without building values.
public enum JSONSyntax {
    static let maxDepth = 64

    /// Whether `bytes` is exactly one JSON value (surrounding spaces allowed).
    public static func isValid(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let end = value(bytes, at: skipSpace(bytes, bytes.startIndex), depth: 0) else { return false }
        return skipSpace(bytes, end) == bytes.endIndex
    }

    static func skipSpace(_ b: ArraySlice<UInt8>, _ i: Int) -> Int {
        var i = i
        while i < b.endIndex, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// The index after the value starting at `i`, or nil.
    static func value(_ b: ArraySlice<UInt8>, at i: Int, depth: Int) -> Int? {
        guard i < b.endIndex, depth < maxDepth else { return nil }
        switch b[i] {
        case UInt8(ascii: "{"):
            var j = skipSpace(b, i + 1)
            if j < b.endIndex, b[j] == UInt8(ascii: "}") { return j + 1 }
            while true {
                guard let (_, afterKey) = string(b, at: j) else { return nil }
                j = skipSpace(b, afterKey)
                guard j < b.endIndex, b[j] == UInt8(ascii: ":") else { return nil }
                guard let afterValue = value(b, at: skipSpace(b, j + 1), depth: depth + 1) else { return nil }
                j = skipSpace(b, afterValue)
                guard j < b.endIndex else { return nil }
                if b[j] == UInt8(ascii: "}") { return j + 1 }
                guard b[j] == UInt8(ascii: ",") else { return nil }
                j = skipSpace(b, j + 1)
            }
        case UInt8(ascii: "["):
            var j = skipSpace(b, i + 1)
            if j < b.endIndex, b[j] == UInt8(ascii: "]") { return j + 1 }
            while true {
                guard let afterValue = value(b, at: j, depth: depth + 1) else { return nil }
                j = skipSpace(b, afterValue)
                guard j < b.endIndex else { return nil }
                if b[j] == UInt8(ascii: "]") { return j + 1 }
                guard b[j] == UInt8(ascii: ",") else { return nil }
                j = skipSpace(b, j + 1)
            }
        case UInt8(ascii: "\""):
            return string(b, at: i)?.1
        case UInt8(ascii: "t"): return literal(b, i, "true")
        case UInt8(ascii: "f"): return literal(b, i, "false")
        case UInt8(ascii: "n"): return literal(b, i, "null")
        default: return number(b, at: i)
        }
    }

    static func literal(_ b: ArraySlice<UInt8>, _ i: Int, _ word: StaticString) -> Int? {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard b[i...].starts(with: w) else { return nil }
        return i + w.count
    }

    static func number(_ b: ArraySlice<UInt8>, at i: Int) -> Int? {
        var j = i
        func digits() -> Bool {
            let start = j
            while j < b.endIndex, b[j] >= 0x30, b[j] <= 0x39 { j += 1 }
            return j > start
        }
        if j < b.endIndex, b[j] == UInt8(ascii: "-") { j += 1 }
        if j < b.endIndex, b[j] == UInt8(ascii: "0") { j += 1 } else if !digits() { return nil }
        if j < b.endIndex, b[j] == UInt8(ascii: ".") { j += 1; guard digits() else { return nil } }
        if j < b.endIndex, b[j] == UInt8(ascii: "e") || b[j] == UInt8(ascii: "E") {
            j += 1
            if j < b.endIndex, b[j] == UInt8(ascii: "+") || b[j] == UInt8(ascii: "-") { j += 1 }
            guard digits() else { return nil }
        }
        return j
    }

    /// A JSON string at `i`: its decoded value and the index after it.
    static func string(_ b: ArraySlice<UInt8>, at i: Int) -> (String, Int)? {
        guard i < b.endIndex, b[i] == UInt8(ascii: "\"") else { return nil }
        var out: [UInt8] = []
        var j = i + 1
        while j < b.endIndex {
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                guard let s = String(validating: out, as: UTF8.self) else { return nil }
                return (s, j + 1)
            }
            if c < 0x20 { return nil }
            if c == UInt8(ascii: "\\") {
                guard j + 1 < b.endIndex else { return nil }
                let e = b[j + 1]
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard j + 5 < b.endIndex else { return nil }
                    var v: UInt32 = 0
                    for k in 2...5 {
                        guard let h = QueryDecoder.hexValue(b[j + k]) else { return nil }
                        v = v << 4 | UInt32(h)
                    }
                    // Keys and values we write only escape control characters;
                    // keep others as the scalar, or U+FFFD for a lone surrogate.
                    let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    j += 4
                default: return nil
                }
                j += 2
                continue
            }
            out.append(c)
            j += 1
        }
        return nil
    }
}
