import Testing
@testable import PixelCore

@Suite("Reading spool lines back")
struct SpoolLineTests {
    @Test func parsesWhatTheWriterWrites() throws {
        let event = try PixelEvent.build(type: .page, query: "writeKey=w%22k%5C&anonymousId=a1&properties.x=%0A%22", facts: fixedFacts)
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
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(SpoolLine.parse(Array(text.utf8)[...]) == nil)
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
