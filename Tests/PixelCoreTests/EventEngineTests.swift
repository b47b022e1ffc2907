import Testing
@testable import PixelCore

/// The engine's entry (`EventEngine`): the draft and the checks the caller
/// runs on it, the workspace it holds, and the size the limit compares.
@Suite("Event engine")
struct EventEngineTests {
    /// The words' literal bytes and spans (`Word.allText`, `Word.spans`)
    /// are each word's text, in case order, and nothing else.
    @Test func theWordTablesAreTheWords() {
        #expect(Word.spans.count == Word.allCases.count)
        var end = 0
        for word in Word.allCases {
            #expect(Int(word.span.start) == end, "\(word) starts where the one before ends")
            end = Int(word.span.start + word.span.count)
        }
        #expect(end == Word.bytes.count)
        for word in Word.allCases {
            let span = word.span
            let text = word.text.withUTF8Buffer { Array($0) }
            #expect(Array(Word.bytes[Int(span.start)..<Int(span.start + span.count)]) == text, "\(word)")
        }
    }

    func draftRefusal(_ type: EventType, _ query: String, allowed: Set<String>) -> PixelError? {
        var query = query
        return query.withUTF8 { buffer -> PixelError? in
            do throws(PixelError) {
                var draft = try EventEngine.draft(type: type, query: buffer, facts: fixedFacts)
                try draft.checkWriteKey(allowed: allowed)
                try draft.checkIdentity()
                _ = try draft.finish()
                return nil
            } catch {
                return error
            }
        }
    }

    /// The draft answers for what it checked (the query, the write key's
    /// presence); the rest comes in the caller's order.
    @Test(arguments: [
        ("anonymousId=a", "", PixelError.missingWriteKey),
        ("writeKey=other", "wk", .invalidWriteKey),
        ("writeKey=wk", "wk", .missingAnonymousId),
        ("writeKey=wk&anonymousId=%22%20%22", "", .missingAnonymousId),
        ("writeKey=wk&anonymousId=a&event=", "", .missingEvent),
        ("writeKey=wk&anonymousId=a&event=e&a..b=1", "wk", .emptySegment(parameter: "a..b")),
    ])
    func theChecksComeInTheSpecsOrder(_ c: (query: String, allowed: String, error: PixelError)) {
        let allowed: Set<String> = c.allowed.isEmpty ? [] : [c.allowed]
        #expect(draftRefusal(.track, c.query, allowed: allowed) == c.error)
        #expect(refusal(.track, c.query, allowed: allowed) == c.error)
    }

    @Test func theDraftCarriesTheWriteKeyOutOfTheEvent() throws {
        var query = "writeKey=w%22k&anonymousId=a"
        let writeKey = try query.withUTF8 { buffer throws(PixelError) -> String in
            let draft = try EventEngine.draft(type: .page, query: buffer, facts: fixedFacts)
            return draft.writeKey
        }
        #expect(writeKey == "w\"k")
        #expect(try !eventJSON(.page, query).contains("writeKey"))
    }

    /// Queries whose events take the writer past its first memory, cross
    /// array gaps, escape, replace and copy: the size the limit compares is
    /// the event's written size, the reference model writes the same
    /// bytes, and the limit holds at that size exactly.
    @Test(arguments: [
        "properties.a=1",
        "properties.items.3.sku=x&properties.items.0=y&properties.items.9=z",
        "properties.q=%22%5C%0A%01%7F%C3%A9&context.page.title=T%09",
        "properties.tags=a&properties.tags=b&properties.tags=c",
        "properties.x=a&properties.x.y=1&properties.x=b&integrations.GA=false",
        "context.page.url=u&context.page.path=p&name=",
        "properties.big=" + String(repeating: "%22x", count: 3000),
        (0..<40).map { "p.\($0).200=x" }.joined(separator: "&"),
    ])
    func theSizeTheLimitComparesIsTheWrittenSize(_ tail: String) throws {
        let query = "writeKey=wk&anonymousId=a&" + tail
        let unlimited = PixelLimits(maxEventBytes: 1 << 30)
        let event = try EventEngine.build(type: .page, query: query, facts: fixedFacts, limits: unlimited)
        let written = event.eventJSON.count
        #expect(event.recordLine.count == #"{"writeKey":"wk","event":"#.utf8.count + written + 2)
        #expect(JSONSyntax.isValid(event.eventJSON))
        let pairs = try QueryString.parse(query, limits: unlimited)
        let reference = try ReferenceModel.build(type: .page, pairs: pairs, facts: fixedFacts, limits: unlimited)
        #expect(JSONValue.object(reference.event).jsonBytes == Array(event.eventJSON))
        #expect(refusal(.page, query, limits: PixelLimits(maxEventBytes: written)) == nil)
        #expect(refusal(.page, query, limits: PixelLimits(maxEventBytes: written - 1)) == .eventTooLarge(limit: written - 1))
    }

    /// One workspace through refusals (a draft dropped at any check) and
    /// events of any size gives what a fresh workspace gives.
    @Test func aReusedWorkspaceGivesWhatAFreshOneGives() throws {
        let workspace = EventWorkspace()
        let queries = [
            "writeKey=wk&anonymousId=a&properties.big=" + String(repeating: "y", count: 20_000),
            "writeKey=other&anonymousId=a",
            "writeKey=wk",
            "writeKey=wk&anonymousId=a&" + (0..<40).map { "properties.k\($0)=v" }.joined(separator: "&"),
            "anonymousId=a&properties.0=x",
            "writeKey=wk&anonymousId=b&properties.small=1",
        ]
        for _ in 0..<2 {
            for query in queries {
                var q = query
                let reused = q.withUTF8 { buffer in
                    Result { () throws(PixelError) -> PixelEvent in
                        try EventEngine.build(type: .page, query: buffer, facts: fixedFacts, allowedWriteKeys: ["wk"],
                                              workspace: workspace)
                    }
                }
                let fresh = q.withUTF8 { buffer in
                    Result { () throws(PixelError) -> PixelEvent in
                        try EventEngine.build(type: .page, query: buffer, facts: fixedFacts, allowedWriteKeys: ["wk"])
                    }
                }
                #expect(reused == fresh, "\(query.prefix(60))")
            }
        }
    }
}
