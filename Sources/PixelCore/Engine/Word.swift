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

    // The words' bytes and spans are literals (a test keeps them equal to
    // `text`): built by walking the cases, they cost a CGI start 7,000
    // instructions, and an array of `Word` its generic metadata.

    /// Every word's text, in case order.
    static let allText: StaticString = "typepagetrackwriteKeyreceivedAtrequest_ipanonymousIdeventnameUnknown PagepropertiescontextpathurlreferrertitlechannelwebuserAgentipintegrationsAllmessageIdoriginalTimestampsentAttimestamptruefalsetrafficclassruleLink ClickedisBotbotcampaign"

    /// Each word's span in `allText`, start and byte count packed in one
    /// word (`start << 32 | count`): one load for a span.
    static let spans: [UInt64] = [
        0x4, 0x400000004, 0x800000005, 0xd00000008, 0x150000000a, 0x1f0000000a,
        0x290000000b, 0x3400000005, 0x3900000004, 0x3d0000000c, 0x490000000a, 0x5300000007,
        0x5a00000004, 0x5e00000003, 0x6100000008, 0x6900000005, 0x6e00000007, 0x7500000003,
        0x7800000009, 0x8100000002, 0x830000000c, 0x8f00000003, 0x9200000009, 0x9b00000011,
        0xac00000006, 0xb200000009, 0xbb00000004, 0xbf00000005, 0xc400000007, 0xcb00000005,
        0xd000000004, 0xd40000000c, 0xe000000005, 0xe500000003, 0xe800000008,
    ]

    static let bytes: [UInt8] = allText.withUTF8Buffer { Array($0) }

    @inline(__always)
    var span: ByteSpan {
        let packed = Word.spans[rawValue]
        return ByteSpan(start: Int(truncatingIfNeeded: packed >> 32), count: Int(truncatingIfNeeded: packed & 0xFFFF_FFFF))
    }

    /// A path of words, as segments (never array indexes).
    /// (Not variadic: that made an array of `Word` first.)
    static func path(_ a: Word) -> [EventTree.Segment] { [a.segment] }
    static func path(_ a: Word, _ b: Word) -> [EventTree.Segment] { [a.segment, b.segment] }
    static func path(_ a: Word, _ b: Word, _ c: Word) -> [EventTree.Segment] { [a.segment, b.segment, c.segment] }

    /// The slot of a word that names a top-level member the server reads
    /// or sets (`EventTree.rootWords`); -1 for the others.
    var rootSlot: Int {
        switch self {
        case .type: return 0
        case .name: return 1
        case .event: return 2
        case .sentAt: return 3
        case .channel: return 4
        case .context: return 5
        case .messageId: return 6
        case .timestamp: return 7
        case .properties: return 8
        case .receivedAt: return 9
        case .requestIP: return 10
        case .anonymousId: return 11
        case .integrations: return 12
        case .originalTimestamp: return 13
        default: return -1
        }
    }
    static let rootSlotCount = 14

    var segment: EventTree.Segment {
        // The prefix a byte at a time: the words' text has no slack after it.
        let span = span
        var prefix: UInt64 = 0
        for i in 0..<min(Int(span.count), 8) {
            prefix |= UInt64(Word.allText.utf8Start[Int(span.start) + i]) << UInt64(8 * i)
        }
        return EventTree.Segment(span: span, index: EventTree.Segment.notIndex, prefix: prefix, rootSlot: Int8(rootSlot))
    }
}
