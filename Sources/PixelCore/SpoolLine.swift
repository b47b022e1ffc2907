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

extension SpoolLine {
    static let pageStart = Array(#"{"type":"page""#.utf8)
    static let trackStart = Array(#"{"type":"track""#.utf8)
    /// How a click's line (and the record of a refused click) ends: the
    /// route is the line's last member. No other line ends so: an event's
    /// last member is the server's `request_ip`, a record's its note.
    public static let clickEnding = Array(#","route":"click"}"#.utf8)

    /// The route the hit of a line that `parse` accepted came by: a click
    /// line ends with `"route":"click"`; otherwise the event's `type`,
    /// which pixelgate writes first. Nil for a line that says neither
    /// (written by hand); an older version's click line reads as `track`.
    public static func route(_ line: ArraySlice<UInt8>, eventRange: Range<Int>) -> PixelRoute? {
        route(line, event: line[eventRange.lowerBound...])
    }

    /// The route of `line`, whose event starts `event` (to the line's end).
    static func route(_ line: ArraySlice<UInt8>, event: ArraySlice<UInt8>) -> PixelRoute? {
        if line.suffix(clickEnding.count).elementsEqual(clickEnding) { return .click }
        if event.starts(with: pageStart) { return .page }
        if event.starts(with: trackStart) { return .track }
        return nil
    }

    /// The same, read from a line's two ends without parsing the whole
    /// line (for `stats`, which counts every waiting line): the ending, and
    /// the event's `type` after the record's write key. A torn or foreign
    /// line may be counted by its start; the drain sets such lines aside.
    public static func routeOfLine(_ line: ArraySlice<UInt8>) -> PixelRoute? {
        let prefix = PixelEvent.recordPrefix, middle = PixelEvent.recordMiddle
        guard line.starts(with: prefix) else { return nil }
        // The write key: a JSON string, to its closing quote.
        var i = line.startIndex + prefix.count + 1
        while i < line.endIndex && line[i] != UInt8(ascii: "\"") {
            i += line[i] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard i < line.endIndex else { return nil }
        let rest = line[(i + 1)...]
        guard rest.starts(with: middle) else { return nil }
        return route(line, event: rest.dropFirst(middle.count))
    }

    /// What an event says of its client's address, as RudderStack's gateway
    /// reads it: one `request_ip` per request, taken from the events that
    /// carry the key (SPEC §6).
    public enum RequestAddress: Equatable, Sendable {
        /// `"request_ip":"…"`: the string's bytes as written between the quotes.
        case string(ArraySlice<UInt8>)
        /// The key is there with another kind of value, which the gateway
        /// takes as the empty address.
        case notString
        /// No `request_ip`: the gateway would fill in the sender's address.
        case missing

        /// The address requests are grouped by: the empty one unless a string.
        public var bytes: ArraySlice<UInt8> {
            if case .string(let bytes) = self { return bytes }
            return []
        }
    }

    /// The last top-level `request_ip` of an event object that `parse`
    /// accepted (the gateway's map keeps the last of a repeated key).
    /// pixelgate writes it as the event's last member, which is read from
    /// the end; any other event is walked member by member.
    public static func requestAddress(_ event: ArraySlice<UInt8>) -> RequestAddress {
        event.withUnsafeBufferPointer { b -> RequestAddress in
            let key = requestIPMember
            let n = b.count
            // `…,"request_ip":"<no quote or backslash>"}`
            if n >= key.count + 3, b[n - 1] == UInt8(ascii: "}"), b[n - 2] == UInt8(ascii: "\"") {
                var i = n - 3
                while i > 0 && b[i] != UInt8(ascii: "\"") && b[i] != UInt8(ascii: "\\") { i -= 1 }
                if b[i] == UInt8(ascii: "\""), i >= key.count + 1, b[i - 1] != UInt8(ascii: "\\") {
                    let nameStart = i - key.count
                    if b[nameStart - 1] == UInt8(ascii: ",") || b[nameStart - 1] == UInt8(ascii: "{"),
                       UnsafeBufferPointer(rebasing: b[nameStart..<i]).elementsEqual(key) {
                        return .string(event[(event.startIndex + i + 1)..<(event.startIndex + n - 2)])
                    }
                }
            }
            return walkedAddress(b, base: event)
        }
    }

    /// `"request_ip":` as written.
    static let requestIPMember = Array(#""request_ip":"#.utf8)

    /// `requestAddress` for any event object: each top-level member in turn.
    static func walkedAddress(_ b: UnsafeBufferPointer<UInt8>, base: ArraySlice<UInt8>) -> RequestAddress {
        var found = RequestAddress.missing
        var i = JSONSyntax.skipSpace(b, 1)
        guard b.count > 1, i < b.count, b[i] != UInt8(ascii: "}") else { return found }
        while i < b.count {
            guard let nameEnd = JSONSyntax.skipString(b, at: i) else { return found }
            let name = UnsafeBufferPointer(rebasing: b[i..<nameEnd])
            // A name with escapes (`"request\u005fip"`) is the same key to
            // the gateway once decoded.
            let isAddress = name.elementsEqual(requestIPMember.dropLast())
                || (name.contains(UInt8(ascii: "\\")) && JSONSyntax.string(b, at: i)?.0 == "request_ip")
            var j = JSONSyntax.skipSpace(b, nameEnd)
            guard j < b.count, b[j] == UInt8(ascii: ":") else { return found }
            j = JSONSyntax.skipSpace(b, j + 1)
            guard let valueEnd = JSONSyntax.value(b, at: j, depth: 1) else { return found }
            if isAddress {
                found = b[j] == UInt8(ascii: "\"") ? .string(base[(base.startIndex + j + 1)..<(base.startIndex + valueEnd - 1)]) : .notString
            }
            i = JSONSyntax.skipSpace(b, valueEnd)
            guard i < b.count, b[i] == UInt8(ascii: ",") else { return found }
            i = JSONSyntax.skipSpace(b, i + 1)
        }
        return found
    }
}
