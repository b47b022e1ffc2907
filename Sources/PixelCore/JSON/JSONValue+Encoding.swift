extension JSONValue {
    /// Writes this value as compact JSON (no spaces) through `out`, the
    /// writer events go through, so records escape exactly as events do.
    public func encode(into out: inout JSONWriter) {
        switch self {
        case .null: out.null()
        case .bool(let b): out.bool(b)
        case .string(let s): out.string(s)
        case .array(let items):
            out.byte(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.byte(UInt8(ascii: ",")) }
                item.encode(into: &out)
            }
            out.byte(UInt8(ascii: "]"))
        case .object(let object): object.encode(into: &out)
        }
    }

    /// Appends this value as compact JSON to `out` (through a `JSONWriter`).
    public func encode(into out: inout [UInt8]) {
        out.append(contentsOf: jsonBytes)
    }

    /// The compact JSON text of this value.
    public var jsonBytes: [UInt8] {
        var out = JSONWriter()
        encode(into: &out)
        return out.bytes
    }

    public var jsonString: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// Appends `s` as a JSON string literal (through a `JSONWriter`).
    public static func encodeString(_ s: String, into out: inout [UInt8]) {
        var writer = JSONWriter()
        writer.string(s)
        out.append(contentsOf: writer.bytes)
    }
}
