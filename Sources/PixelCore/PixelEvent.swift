/// The two kinds of event the Pixel API records.
public enum EventType: String, Sendable {
    case page
    case track
}

/// What the server knows about a hit beside its query string.
public struct HitFacts: Sendable, Equatable {
    /// Receive time, milliseconds since the Unix epoch.
    public var receivedAtMillis: Int64
    /// A fresh lowercase UUID, used where the query sets no `messageId`.
    public var messageId: String
    /// The `User-Agent` header, when there was one.
    public var userAgent: String?
    /// The client address as resolved from `REMOTE_ADDR` and trusted proxies.
    public var clientIP: String

    public init(receivedAtMillis: Int64, messageId: String, userAgent: String?, clientIP: String) {
        self.receivedAtMillis = receivedAtMillis
        self.messageId = messageId
        self.userAgent = userAgent
        self.clientIP = clientIP
    }
}

/// A RudderStack `page` or `track` event built from a pixel hit, with the
/// write key that travels beside it.
public struct PixelEvent: Sendable, Equatable {
    public var writeKey: String
    public var event: JSONObject

    public init(writeKey: String, event: JSONObject) {
        self.writeKey = writeKey
        self.event = event
    }

    /// The page properties the seed asks for in `properties` or `context.page`.
    static let mirroredPageFields = ["path", "url", "referrer", "title"]

    /// Builds the event for `type` from decoded pairs, checking in the order
    /// of SPEC §4: names, then `writeKey` (present, then allowed), then
    /// `anonymousId`, then `event` for track.
    ///
    /// - Parameter allowedWriteKeys: empty accepts any write key.
    public static func build(
        type: EventType,
        pairs: [QueryPair],
        facts: HitFacts,
        limits: PixelLimits = .default,
        allowedWriteKeys: Set<String> = []
    ) throws(PixelError) -> PixelEvent {
        var event = JSONObject()
        event.members.reserveCapacity(16)
        event["type"] = .string(type.rawValue)
        var writeKey: String?
        var seen = Set<String>(minimumCapacity: pairs.count)
        for pair in pairs {
            // A repeated name: the first value counts, as in RudderStack.
            guard seen.insert(pair.name).inserted else { continue }
            let path = try KeyPath(pair.name, limits: limits)
            switch path.first {
            case "writeKey":
                if path.segments.count == 1 { writeKey = pair.value }
                continue
            case "type", "receivedAt", "request_ip":
                continue  // Set by the server, whatever the query says.
            default:
                try event.set(path, to: .string(pair.value), parameter: pair.name, limits: limits)
            }
        }

        guard let writeKey, !writeKey.isEmpty else { throw .missingWriteKey }
        if !allowedWriteKeys.isEmpty && !allowedWriteKeys.contains(writeKey) { throw .invalidWriteKey }

        guard case .string(let rawAnonymousId)? = event["anonymousId"] else { throw .missingAnonymousId }
        let anonymousId = stripOneQuotePair(rawAnonymousId)
        if anonymousId.isEmpty { throw .missingAnonymousId }
        if anonymousId != rawAnonymousId { event["anonymousId"] = .string(anonymousId) }

        switch type {
        case .track:
            guard case .string(let name)? = event["event"], !name.isEmpty else { throw .missingEvent }
        case .page:
            if case .string("")? = event["name"] { event["name"] = .string("Unknown Page") }
            mirrorPageFields(&event, limits: limits)
        }

        let now = ISO8601.format(millis: facts.receivedAtMillis)
        setIfAbsent(&event, ["channel"], .string("web"), limits: limits)
        if let ua = facts.userAgent { setIfAbsent(&event, ["context", "userAgent"], .string(ua), limits: limits) }
        if !facts.clientIP.isEmpty { setIfAbsent(&event, ["context", "ip"], .string(facts.clientIP), limits: limits) }
        setIfAbsent(&event, ["integrations"], .object(JSONObject(["All": .bool(true)])), limits: limits)
        setIfAbsent(&event, ["messageId"], .string(facts.messageId), limits: limits)
        setIfAbsent(&event, ["originalTimestamp"], .string(now), limits: limits)
        setIfAbsent(&event, ["sentAt"], .string(now), limits: limits)
        event["receivedAt"] = .string(now)
        event["request_ip"] = .string(facts.clientIP)
        return PixelEvent(writeKey: writeKey, event: event)
    }

    /// The spool line: `{"writeKey":…,"event":{…}}` and a newline.
    public var recordLine: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        out.append(contentsOf: PixelEvent.recordPrefix)
        JSONValue.encodeString(writeKey, into: &out)
        out.append(contentsOf: PixelEvent.recordMiddle)
        event.encode(into: &out)
        out.append(contentsOf: PixelEvent.recordSuffix)
        return out
    }

    static let recordPrefix = Array(#"{"writeKey":"#.utf8)
    static let recordMiddle = Array(#","event":"#.utf8)
    static let recordSuffix = Array("}\n".utf8)

    /// `"abc"` → `abc`; anything else unchanged. Some templates quote ids.
    static func stripOneQuotePair(_ s: String) -> String {
        let u = s.utf8
        guard u.count >= 2, u.first == UInt8(ascii: "\""), u.last == UInt8(ascii: "\"") else { return s }
        return String(s.dropFirst().dropLast())
    }

    /// Copies each of path/url/referrer/title between `properties` and
    /// `context.page` where it stands in one and not the other.
    static func mirrorPageFields(_ event: inout JSONObject, limits: PixelLimits) {
        let properties = event["properties"]?.objectValue
        let page = event["context"]?.objectValue?["page"]?.objectValue
        guard properties != nil || page != nil else { return }
        for field in mirroredPageFields {
            let inProperties = properties?[field]
            let inPage = page?[field]
            if inProperties == nil, let inPage {
                setIfAbsent(&event, ["properties", field], inPage, limits: limits)
            } else if inPage == nil, let inProperties {
                setIfAbsent(&event, ["context", "page", field], inProperties, limits: limits)
            }
        }
    }

    /// Sets `keys` to `value` unless a value already stands there.
    static func setIfAbsent(_ event: inout JSONObject, _ keys: [String], _ value: JSONValue, limits: PixelLimits) {
        var node: JSONValue? = .object(event)
        for key in keys {
            node = node?.objectValue?[key]
            if node == nil { break }
        }
        if node != nil { return }
        // Server keys are words, never indexes, so set() cannot throw here.
        try? event.set(KeyPath(words: keys), to: value, parameter: keys.joined(separator: "."), limits: limits)
    }
}
