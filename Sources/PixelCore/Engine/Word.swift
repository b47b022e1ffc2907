/// The words the server reads or writes, kept at fixed spans at the start of
/// every event buffer so they compare and encode like query bytes.
enum Word: Int, CaseIterable {
    case type, page, track, writeKey, receivedAt, requestIP, anonymousId, event, name, unknownPage, properties,
         context, path, url, referrer, title, channel, web, userAgent, ip, integrations, all, messageId,
         originalTimestamp, sentAt, timestamp, trueWord, falseWord, traffic, classWord, rule, linkClicked,
         isBot, bot, campaign

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
        case .campaign: return "campaign"
        }
    }

    // The tables below walk the cases by raw value, not `allCases`: an
    // array of `Word` costs a CGI start its generic metadata.

    static let bytes: [UInt8] = {
        var out: [UInt8] = []
        var raw = 0
        while let word = Word(rawValue: raw) {
            word.text.withUTF8Buffer { out.append(contentsOf: $0) }
            raw += 1
        }
        return out
    }()

    static let spans: [ByteSpan] = {
        var spans: [ByteSpan] = []
        var offset = 0, raw = 0
        while let word = Word(rawValue: raw) {
            spans.append(ByteSpan(start: offset, count: word.text.utf8CodeUnitCount))
            offset += word.text.utf8CodeUnitCount
            raw += 1
        }
        return spans
    }()

    @inline(__always)
    var span: ByteSpan { Word.spans[rawValue] }

    /// A path of words, as segments (never array indexes).
    /// (Not variadic: that made an array of `Word` first.)
    static func path(_ a: Word) -> [EventTree.Segment] { [a.segment] }
    static func path(_ a: Word, _ b: Word) -> [EventTree.Segment] { [a.segment, b.segment] }
    static func path(_ a: Word, _ b: Word, _ c: Word) -> [EventTree.Segment] { [a.segment, b.segment, c.segment] }

    var segment: EventTree.Segment { EventTree.Segment(span: span, index: EventTree.Segment.notIndex) }
}
