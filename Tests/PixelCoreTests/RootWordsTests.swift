import Testing
@testable import PixelCore

/// The event's top-level members named by server words have slots,
/// filled as they are added (`EventTree.rootWords`, issue 27): the server
/// finds them without a scan. A slot must go to exactly its word, and never
/// to a key that only looks like one; debug builds also check every slot
/// read against a scan.
@Suite("Top-level server words")
struct RootWordsTests {
    @Test func eachServerWordAndNoLookAlikeHasItsSlot() {
        let workspace = EventWorkspace()
        workspace.reserve(text: 2048, segments: 4)
        var tree = EventTree(workspace: workspace, textCapacity: 2048)
        Word.bytes.withUnsafeBufferPointer { _ = tree.appendText($0) }
        var slots: Set<Int> = []
        for word in Word.allCases {
            // Spelled elsewhere in the text, as a query's key would be.
            let key = tree.appendText("\(word.text)")
            let slot = tree.rootSlot(ofKey: key, prefix: tree.prefix(key))
            #expect(slot == word.rootSlot, "\(word)")
            if slot >= 0 { slots.insert(slot) }
        }
        #expect(slots == Set(0..<Word.rootSlotCount))
        for lookAlike in ["receivedAX", "request_iq", "originalTimestampX", "originalTimestamP", "contexT", "Context", "nam",
                          "names", "typ", "sentAT", "integrationS", "anonymousID", "messageID", "timestamP", "propertieS",
                          "channeL", "evenT", "receivedA", "request_ip_"] {
            let key = tree.appendText(lookAlike)
            #expect(tree.rootSlot(ofKey: key, prefix: tree.prefix(key)) == -1, "\(lookAlike)")
        }
        tree.giveBack(to: workspace)
    }

    /// A top level of more than 16 members (looked up through the member
    /// index) with the query's own server words among them: each is found
    /// where the query put it, once.
    @Test func aWideTopLevelKeepsTheQuerysServerWords() throws {
        let filler = (1...20).map { "k\($0)=\($0)" }.joined(separator: "&")
        let json = try eventJSON(.page, "writeKey=wk&anonymousId=a&" + filler
            + "&channel=email&messageId=m-1&timestamp=2026-12-08T01%3A02%3A03.000Z&properties.x=1&context.locale=de&name=N")
        #expect(json.contains(#""channel":"email""#) && !json.contains(#""channel":"web""#), "\(json)")
        #expect(json.contains(#""messageId":"m-1""#), "\(json)")
        #expect(json.contains(#""timestamp":"2026-12-08T01:02:03.000Z""#), "\(json)")
        #expect(json.contains(#""context":{"locale":"de","#), "\(json)")
        #expect(Self.count(#""channel":"#, in: json) == 1 && Self.count(#""context":"#, in: json) == 1, "\(json)")
        #expect(json.hasPrefix(#"{"type":"page","anonymousId":"a","k1":"1""#), "\(json)")
    }

    static func count(_ needle: String, in text: String) -> Int {
        var found = 0
        var rest = Substring(text)
        while let range = rest.firstOccurrence(of: needle) {
            found += 1
            rest = rest[range.upperBound...]
        }
        return found
    }
}
