import PixelCore

/// The records the drain and forwarding keep in `rejected/`.
///
/// Nothing is cut: an event the data plane refused keeps its whole spool
/// line, and bytes set aside are kept whole (as text when they are UTF-8,
/// else in base64), so an operator can always recover what was accepted.
enum RejectedRecord {
    /// An event the data plane refused, with its answer. The record is
    /// itself a spool line (`{"writeKey":…,"event":{…},"rejected":{…}}`), so
    /// `pixelgate requeue` moves the whole file back for delivery.
    ///
    /// - Parameter from: where the drain read it (`file:offset`), so that a
    ///   pass resumed after a crash does not keep the same event twice.
    /// - Parameter click: the event came by the click route; the record
    ///   ends as a click's spool line does (`SpoolLine.route`), so it is
    ///   counted as a click while kept and after `requeue`.
    static func refusedEvent(writeKey: String, event: ArraySlice<UInt8>, status: Int, click: Bool = false, answer: String, atMillis: Int64,
                             from: String? = nil) -> [UInt8] {
        refusedEvent(writeKey: writeKey, event: event, status: String(status), answer: answer,
                     at: ISO8601.format(millis: atMillis), from: from, click: click)
    }

    static func refusedEvent(writeKey: String, event: ArraySlice<UInt8>, status: String, answer: String, at: String,
                             from: String?, click: Bool = false) -> [UInt8] {
        var note = JSONObject()
        if let from { note["from"] = .string(from) }
        note["at"] = .string(at)
        note["status"] = .string(status)
        note["answer"] = .string(answer)
        var line = Array(#"{"writeKey":"#.utf8)
        line.append(contentsOf: JSONValue.string(writeKey).jsonBytes)
        line.append(contentsOf: #","event":"#.utf8)
        line.append(contentsOf: event)
        line.append(contentsOf: #","rejected":"#.utf8)
        line.append(contentsOf: JSONValue.object(note).jsonBytes)
        line.append(contentsOf: click ? SpoolLine.clickEnding : Array("}".utf8))
        line.append(0x0A)
        return line
    }

    /// Where each kept record came from (`file:offset`), read back from the
    /// records in `content` (the note is the last member, after the event).
    static func origins(_ content: [UInt8]) -> Set<String> {
        var found = Set<String>()
        for line in content.split(separator: 0x0A) { addOrigin(of: line, to: &found) }
        return found
    }

    /// Adds the `file:offset` a refused-event record came from, if it has one.
    static func addOrigin(of line: ArraySlice<UInt8>, to found: inout Set<String>) {
        let marker = Array(#","rejected":{"from":""#.utf8)
        do {
            // The last occurrence: an event may hold these bytes as keys.
            var i = line.endIndex - marker.count
            while i >= line.startIndex && !line[i..<(i + marker.count)].elementsEqual(marker) { i -= 1 }
            guard i >= line.startIndex else { return }
            let start = i + marker.count
            guard let end = line[start...].firstIndex(of: UInt8(ascii: "\"")) else { return }
            found.insert(String(decoding: line[start..<end], as: UTF8.self))
        }
    }

    /// A refused-event record as versions before 0.2 wrote it
    /// (`{"rejectedAt":…,"status":…,"answer":…,"line":"<the spool line>"}`),
    /// rewritten as today's, which the drain can send; nil for anything else.
    static func upgradedLegacy(_ record: ArraySlice<UInt8>) -> [UInt8]? {
        guard let members = JSONSyntax.stringMembers(record), members.map(\.name) == ["rejectedAt", "status", "answer", "line"] else {
            return nil
        }
        let line = Array(members[3].value.utf8)
        guard let parsed = SpoolLine.parse(line[...]) else { return nil }
        return refusedEvent(writeKey: parsed.writeKey, event: line[parsed.eventRange], status: members[1].value,
                            answer: members[2].value, at: members[0].value, from: nil)
    }

    /// Bytes of a spool file that are not a record (a writer killed
    /// mid-line, a damaged disk block), never sent as an event.
    static let setAsideLimit = 1 << 20

    static func setAside(_ bytes: ArraySlice<UInt8>, reason: String, file: String, atMillis: Int64) -> [UInt8] {
        var record = JSONObject()
        record["setAsideAt"] = .string(ISO8601.format(millis: atMillis))
        record["reason"] = .string(reason)
        record["file"] = .string(file)
        // Kept whole up to a megabyte (more than any event); of a longer
        // run of bytes (nothing pixelgate wrote) the first megabyte and its
        // length, so that no file can make the record of it huge.
        let kept = bytes.count > setAsideLimit ? bytes.prefix(setAsideLimit) : bytes
        if kept.count < bytes.count { record["cutFrom"] = .string("\(bytes.count) bytes") }
        if let text = String(validating: kept, as: UTF8.self) {
            record["bytes"] = .string(text)
        } else {
            record["base64"] = .string(Base64.encode(kept))
        }
        var line = JSONValue.object(record).jsonBytes
        line.append(0x0A)
        return line
    }
}
