extension JSONObject {
    /// Writes the object as compact JSON, members in their order.
    public func encode(into out: inout JSONWriter) {
        out.byte(UInt8(ascii: "{"))
        for (i, member) in members.enumerated() {
            if i > 0 { out.byte(UInt8(ascii: ",")) }
            out.string(member.key)
            out.byte(UInt8(ascii: ":"))
            member.value.encode(into: &out)
        }
        out.byte(UInt8(ascii: "}"))
    }

    /// Appends the object as compact JSON to `out` (through a `JSONWriter`).
    public func encode(into out: inout [UInt8]) {
        var writer = JSONWriter()
        encode(into: &writer)
        out.append(contentsOf: writer.bytes)
    }
}
