@testable import PixelCore

/// A fixed receive time: 2026-11-27T13:26:12.345Z.
let fixedMillis: Int64 = 1_795_785_972_345
let fixedTime = "2026-11-27T13:26:12.345Z"
let fixedMessageId = "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"

let fixedFacts = HitFacts(receivedAtMillis: fixedMillis, messageId: fixedMessageId, userAgent: "Mozilla/5.0 (X11; Linux x86_64)", clientIP: "203.0.113.7")

/// The event JSON for `query` on `type`, built with the fixed facts.
func eventJSON(_ type: EventType, _ query: String, limits: PixelLimits = .default, facts: HitFacts = fixedFacts) throws -> String {
    try EventEngine.build(type: type, query: query, facts: facts, limits: limits).eventText
}

/// The error `query` is refused with, or nil when it is accepted.
func refusal(_ type: EventType, _ query: String, limits: PixelLimits = .default, allowed: Set<String> = []) -> PixelError? {
    do {
        _ = try EventEngine.build(type: type, query: query, facts: fixedFacts, limits: limits, allowedWriteKeys: allowed)
        return nil
    } catch {
        return error
    }
}

/// The server-added tail every event ends with under the fixed facts.
let serverTail = #""channel":"web","context":{"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7"},"integrations":{"All":true},"messageId":"\#(fixedMessageId)","timestamp":"\#(fixedTime)","originalTimestamp":"\#(fixedTime)","sentAt":"\#(fixedTime)","receivedAt":"\#(fixedTime)","request_ip":"203.0.113.7""#
let timesTail = #""integrations":{"All":true},"messageId":"\#(fixedMessageId)","timestamp":"\#(fixedTime)","originalTimestamp":"\#(fixedTime)","sentAt":"\#(fixedTime)","receivedAt":"\#(fixedTime)","request_ip":"203.0.113.7""#

extension PixelEvent {
    /// The event's JSON as text.
    var eventText: String { String(decoding: eventJSON, as: UTF8.self) }
}
