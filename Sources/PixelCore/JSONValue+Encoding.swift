extension JSONValue {
    /// Appends this value as compact JSON (no spaces) to `out`.
    ///
    /// Strings keep their UTF-8 bytes; only `"`, `\` and control characters
    /// are escaped, so the output is valid JSON on one line for any input.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: JSONValue.nullBytes)
        case .bool(let b): out.append(contentsOf: b ? JSONValue.trueBytes : JSONValue.falseBytes)
        case .string(let s): JSONValue.encodeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.encode(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object): object.encode(into: &out)
        }
    }

    /// The compact JSON text of this value.
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    public var jsonString: String { String(decoding: jsonBytes, as: UTF8.self) }

    static let nullBytes = Array("null".utf8)
    static let trueBytes = Array("true".utf8)
    static let falseBytes = Array("false".utf8)

    /// Appends `s` as a JSON string literal.
    public static func encodeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { encodeString(bytes: $0, into: &out) }
    }

    /// The same escaping as the event builder's (`RawWriter.jsonString`),
    /// for the records written off the request path. RawWriter reads and
    /// writes eight bytes at a time past the ends, so it gets a padded copy
    /// and a padded destination.
    static func encodeString(bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let source = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count + 8)
        defer { source.deallocate() }
        source.initialize(repeating: 0, count: bytes.count + 8)
        if let base = bytes.baseAddress { source.update(from: base, count: bytes.count) }
        let bound = 2 + 6 * bytes.count + 8
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBufferPointer { buffer in
            var writer = RawWriter(buffer.baseAddress! + start)
            writer.jsonString(source, bytes.count)
            return writer.count
        }
        out.removeLast(bound - written)
    }
}

extension JSONObject {
    public func encode(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, member) in members.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.encodeString(member.key, into: &out)
            out.append(UInt8(ascii: ":"))
            member.value.encode(into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
