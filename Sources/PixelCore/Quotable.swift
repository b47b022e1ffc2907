/// Makes client-supplied bytes safe to quote in a one-line message: control
/// characters become `?`, and anything past `limit` bytes is cut at a
/// character boundary and marked with `…`.
func quotable<S: Sequence>(_ bytes: S, limit: Int = 64) -> String where S.Element == UInt8 {
    var out: [UInt8] = []
    var truncated = false
    for b in bytes {
        if out.count >= limit { truncated = true; break }
        out.append(b < 0x20 || b == 0x7F ? UInt8(ascii: "?") : b)
    }
    if truncated {
        // Do not leave half a UTF-8 sequence at the cut.
        while let last = out.last, last & 0xC0 == 0x80 { out.removeLast() }
        if let last = out.last, last >= 0xC0 { out.removeLast() }
    }
    // Invalid UTF-8 (raw names) is repaired here, for display only.
    var s = String(decoding: out, as: UTF8.self)
    if truncated { s += "…" }
    return s
}
