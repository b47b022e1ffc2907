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

/// A RudderStack `page` or `track` event built from a pixel hit: its spool
/// line `{"writeKey":…,"event":{…}}` and the write key beside it.
public struct PixelEvent: Sendable, Equatable {
    public var writeKey: String
    /// The spool line, newline included.
    public var recordLine: [UInt8]
    /// Where the event's JSON object lies in `recordLine`.
    public var eventRange: Range<Int>

    static let recordPrefix = Array(#"{"writeKey":"#.utf8)
    static let recordMiddle = Array(#","event":"#.utf8)

    /// The event's JSON object.
    public var eventJSON: ArraySlice<UInt8> { recordLine[eventRange] }

    /// Builds the event for `type` from a raw query, checking in the order
    /// of SPEC §4: the query's bytes and names, then `writeKey` (present,
    /// then allowed), then `anonymousId`, then `event` for track.
    ///
    /// The query is decoded straight into one buffer and the event is built
    /// as a flat tree of spans over it, then written once into the line; no
    /// `String` is made per parameter.
    ///
    /// - Parameter allowedWriteKeys: empty accepts any write key.
    /// - Parameter signatureCheck: asked, right after the allow-list, for
    ///   the write key's signature refusal (signed URLs), nil when it is good.
    /// - Parameter workspace: memory to reuse; a long-lived process passes
    ///   the same one for every hit of a thread.
    public static func build(
        type: EventType,
        query: UnsafeBufferPointer<UInt8>,
        facts: HitFacts,
        limits: PixelLimits = .default,
        allowedWriteKeys: Set<String> = [],
        signatureCheck: ((String) -> PixelError?)? = nil,
        workspace: EventWorkspace = EventWorkspace()
    ) throws(PixelError) -> PixelEvent {
        // Before any copying: an over-long query costs nothing but this check.
        if query.count > limits.maxQueryBytes { throw .queryTooLong(limit: limits.maxQueryBytes) }
        var builder = EventBuilder(workspace: workspace, query: query, facts: facts, limits: limits)
        defer { builder.giveBack() }
        try builder.decode(query)
        return try builder.build(type: type, facts: facts, allowedWriteKeys: allowedWriteKeys, signatureCheck: signatureCheck)
    }

    /// Convenience for tests and tools holding a `String`.
    public static func build(
        type: EventType, query: String, facts: HitFacts, limits: PixelLimits = .default, allowedWriteKeys: Set<String> = []
    ) throws(PixelError) -> PixelEvent {
        var query = query
        let result = query.withUTF8 { buffer in
            Result { () throws(PixelError) -> PixelEvent in
                try build(type: type, query: buffer, facts: facts, limits: limits, allowedWriteKeys: allowedWriteKeys)
            }
        }
        return try result.get()
    }
}

/// The words the server reads or writes, kept at fixed spans at the start of
/// every event buffer so they compare and encode like query bytes.
enum Word: Int, CaseIterable {
    case type, page, track, writeKey, receivedAt, requestIP, anonymousId, event, name, unknownPage, properties,
         context, path, url, referrer, title, channel, web, userAgent, ip, integrations, all, messageId,
         originalTimestamp, sentAt, timestamp, trueWord, falseWord

    var text: StaticString {
        switch self {
        case .type: return "type"
        case .page: return "page"
        case .track: return "track"
        case .writeKey: return "writeKey"
        case .receivedAt: return "receivedAt"
        case .requestIP: return "request_ip"
        case .anonymousId: return "anonymousId"
        case .event: return "event"
        case .name: return "name"
        case .unknownPage: return "Unknown Page"
        case .properties: return "properties"
        case .context: return "context"
        case .path: return "path"
        case .url: return "url"
        case .referrer: return "referrer"
        case .title: return "title"
        case .channel: return "channel"
        case .web: return "web"
        case .userAgent: return "userAgent"
        case .ip: return "ip"
        case .integrations: return "integrations"
        case .all: return "All"
        case .messageId: return "messageId"
        case .originalTimestamp: return "originalTimestamp"
        case .sentAt: return "sentAt"
        case .timestamp: return "timestamp"
        case .trueWord: return "true"
        case .falseWord: return "false"
        }
    }

    static let bytes: [UInt8] = {
        var out: [UInt8] = []
        for word in allCases { word.text.withUTF8Buffer { out.append(contentsOf: $0) } }
        return out
    }()

    static let spans: [ByteSpan] = {
        var spans: [ByteSpan] = []
        var offset = 0
        for word in allCases {
            spans.append(ByteSpan(start: offset, count: word.text.utf8CodeUnitCount))
            offset += word.text.utf8CodeUnitCount
        }
        return spans
    }()

    @inline(__always)
    var span: ByteSpan { Word.spans[rawValue] }

    /// A path of words, as segments (never array indexes).
    static func path(_ words: Word...) -> [EventTree.Segment] {
        words.map { EventTree.Segment(span: $0.span, index: EventTree.Segment.notIndex) }
    }
}
