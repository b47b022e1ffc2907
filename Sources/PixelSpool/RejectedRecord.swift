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
    static func refusedEvent(writeKey: String, event: ArraySlice<UInt8>, status: Int, answer: String, atMillis: Int64) -> [UInt8] {
        var note = JSONObject()
        note["at"] = .string(ISO8601.format(millis: atMillis))
        note["status"] = .string(String(status))
        note["answer"] = .string(answer)
        var line = Array(#"{"writeKey":"#.utf8)
        line.append(contentsOf: JSONValue.string(writeKey).jsonBytes)
        line.append(contentsOf: #","event":"#.utf8)
        line.append(contentsOf: event)
        line.append(contentsOf: #","rejected":"#.utf8)
        line.append(contentsOf: JSONValue.object(note).jsonBytes)
        line.append(contentsOf: "}\n".utf8)
        return line
    }

    /// Bytes of a spool file that are not a record (a writer killed
    /// mid-line, a damaged disk block), never sent as an event.
    static func setAside(_ bytes: ArraySlice<UInt8>, reason: String, file: String, atMillis: Int64) -> [UInt8] {
        var record = JSONObject()
        record["setAsideAt"] = .string(ISO8601.format(millis: atMillis))
        record["reason"] = .string(reason)
        record["file"] = .string(file)
        if let text = String(validating: bytes, as: UTF8.self) {
            record["bytes"] = .string(text)
        } else {
            record["base64"] = .string(Base64.encode(bytes))
        }
        var line = JSONValue.object(record).jsonBytes
        line.append(0x0A)
        return line
    }
}
