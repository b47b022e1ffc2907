/// The words the server reads or writes, kept at fixed spans at the start of
/// every event buffer so they compare and encode like query bytes.
enum Word: Int, CaseIterable {
    case type, page, track, writeKey, receivedAt, requestIP, anonymousId, event, name, unknownPage, properties,
         context, path, url, referrer, title, channel, web, userAgent, ip, integrations, all, messageId,
         originalTimestamp, sentAt, timestamp, trueWord, falseWord, traffic, classWord, rule, linkClicked,
         isBot, bot

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
        case .traffic: return "traffic"
        case .classWord: return "class"
        case .rule: return "rule"
        case .linkClicked: return "Link Clicked"
        case .isBot: return "isBot"
        case .bot: return "bot"
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
