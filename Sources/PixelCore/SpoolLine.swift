/// A spool line taken apart: `{"writeKey":"…","event":{…}}`, perhaps
/// followed by more members (a record of an event the data plane refused
/// adds `"rejected":{…}`, so it can go back to the spool as it is).
public struct SpoolLine: Sendable, Equatable {
    public var writeKey: String
    /// Where the event object sits in the line.
    public var eventRange: Range<Int>

    /// Parses one line (without its newline). Nil for anything that is not
    /// exactly a spool record with a well-formed JSON event: a torn line
    /// left by a killed writer must never be sent as an event.
    public static func parse(_ line: ArraySlice<UInt8>) -> SpoolLine? {
        line.withUnsafeBufferPointer { b -> SpoolLine? in
            let prefix = PixelEvent.recordPrefix, middle = PixelEvent.recordMiddle
            guard b.count > prefix.count + 12, b.starts(with: prefix) else { return nil }
            var i = prefix.count
            guard let (writeKey, afterKey) = JSONSyntax.string(b, at: i) else { return nil }
            i = afterKey
            guard b[i...].starts(with: middle) else { return nil }
            i += middle.count
            guard i < b.count, b[i] == UInt8(ascii: "{"), let end = JSONSyntax.value(b, at: i, depth: 0),
                  end < b.count, b[end - 1] == UInt8(ascii: "}") else { return nil }
            // More members, then the record's closing brace as the last byte.
            var j = end
            while j < b.count && b[j] == UInt8(ascii: ",") {
                guard let afterName = JSONSyntax.skipString(b, at: j + 1), afterName < b.count,
                      b[afterName] == UInt8(ascii: ":"),
                      let afterValue = JSONSyntax.value(b, at: afterName + 1, depth: 1) else { return nil }
                j = afterValue
            }
            guard j == b.count - 1, b[j] == UInt8(ascii: "}") else { return nil }
            return SpoolLine(writeKey: writeKey, eventRange: (line.startIndex + i)..<(line.startIndex + end))
        }
    }
}
