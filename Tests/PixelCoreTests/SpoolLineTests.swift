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
