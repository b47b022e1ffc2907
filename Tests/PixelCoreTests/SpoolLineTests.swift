import Testing
@testable import PixelCore

@Suite("Reading spool lines back")
struct SpoolLineTests {
    @Test func parsesWhatTheWriterWrites() throws {
        let event = try EventEngine.build(type: .page, query: "writeKey=w%22k%5C&anonymousId=a1&properties.x=%0A%22", facts: fixedFacts)
        let line = Array(event.recordLine.dropLast())
        let parsed = try #require(SpoolLine.parse(line[...]))
        #expect(parsed.writeKey == "w\"k\\")
        #expect(Array(line[parsed.eventRange]) == Array(event.eventJSON))
    }

    /// The route a line's hit came by, from the line alone: the writer
    /// marks a click after its event, and page and track events say their
    /// type first, whatever the query held.
    @Test func theRouteIsReadFromTheLine() throws {
        func route(_ line: [UInt8]) -> PixelRoute? {
            let body = line.last == 0x0A ? line.dropLast() : line[...]
            return SpoolLine.parse(body).flatMap { SpoolLine.route(body, eventRange: $0.eventRange) }
        }
        let page = try EventEngine.build(type: .page, query: "writeKey=wk&anonymousId=a&type=track&route=click", facts: fixedFacts)
        #expect(route(page.recordLine) == .page)
        let track = try EventEngine.build(type: .track, query: "writeKey=wk&anonymousId=a&event=E&properties.route=click", facts: fixedFacts)
        #expect(route(track.recordLine) == .track)
        #expect(track.recordLine.suffix(3) == Array("}}\n".utf8), "a track line has no route member")
        let click = try EventEngine.build(type: .track, route: .click, query: "writeKey=wk&anonymousId=a&url=https%3A%2F%2Fx.example%2F", facts: fixedFacts)
        #expect(route(click.recordLine) == .click)
        #expect(Array(click.eventJSON).starts(with: Array(#"{"type":"track""#.utf8)), "a click records a track event")
        // Lines pixelgate did not write this way say no route.
        #expect(route(Array(#"{"writeKey":"wk","event":{"anonymousId":"a","type":"page"}}"#.utf8)) == nil)
        #expect(route(Array(#"{"writeKey":"wk","event":{"type":"identify"}}"#.utf8)) == nil)
        #expect(route(Array(#"{"writeKey":"wk","event":{"type":"track"},"rejected":{"status":400}}"#.utf8)) == .track)
    }

    @Test(arguments: [
        "",
        "garbage",
        #"{"writeKey":"wk","event":{"type":"track","anonymousId":"torn","ev"#,
        #"{"writeKey":"wk","event":{"type":"track"}"#,
        #"{"writeKey":"wk","event":{"type":"track"}}}"#,
        #"{"writeKey":"wk","event":[1]}"#,
        #"{"writeKey":wk,"event":{}}"#,
        #"{"event":{},"writeKey":"wk"}"#,
        #"{"writeKey":"wk","event":{"a":01}}"#,
        #"{"writeKey":"wk","event":{"a":"\x"}}"#,
        #"{"writeKey":"wk","event":{"type":"track"},}"#,
        #"{"writeKey":"wk","event":{"type":"track"},"rejected"}"#,
        #"{"writeKey":"wk","event":{"type":"track"},"rejected":{"status":400}"#,
        #"{"writeKey":"wk","event":{"type":"track"},"rejected":{"status":400}}x"#,
        #"{"writeKey":"wk","event":{"type":"track"},rejected:1}"#,
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(SpoolLine.parse(Array(text.utf8)[...]) == nil)
    }

    /// A refused event's record is a spool line with a note after the event.
    @Test func readsTheEventOfARecordWithMoreMembers() throws {
        let text = #"{"writeKey":"wk","event":{"type":"track","a":[1,{"b":"}"}]},"rejected":{"at":"t","status":400,"answer":"no"},"n":1}"#
        let parsed = try #require(SpoolLine.parse(Array(text.utf8)[...]))
        #expect(parsed.writeKey == "wk")
        #expect(String(decoding: Array(text.utf8)[parsed.eventRange], as: UTF8.self) == #"{"type":"track","a":[1,{"b":"}"}]}"#)
    }

    @Test(arguments: [#"{}"#, #"[]"#, #"{"a":[1,-2.5e3,true,false,null,"\u00e9\n"]}"#, #" {"a" : {"b":[ ]} } "#, "0", #""x""#])
    func validJSON(_ text: String) {
        #expect(JSONSyntax.isValid(Array(text.utf8)[...]))
    }

    @Test(arguments: [#"{"#, #"{"a"}"#, #"{"a":1,}"#, #"[1,]"#, "01", "1.", "-", #""\u12""#, "tru", #"{"a":1} x"#, String(repeating: "[", count: 100) + String(repeating: "]", count: 100)])
    func invalidJSON(_ text: String) {
        #expect(!JSONSyntax.isValid(Array(text.utf8)[...]))
    }

    @Test func base64MatchesRFC4648() {
        for (input, output) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"), ("2AbCwk:", "MkFiQ3drOg==")] {
            #expect(Base64.encode(Array(input.utf8)) == output)
        }
    }
}
