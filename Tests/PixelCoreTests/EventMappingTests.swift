import Testing
@testable import PixelCore

@Suite("From parameters to a RudderStack event (SPEC §3)")
struct EventMappingTests {
    static let ctx = #""context":{"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7"}"#

    struct Case: CustomTestStringConvertible, Sendable {
        let rule: String
        let type: EventType
        let query: String
        let json: String
        var testDescription: String { rule }
    }

    static let base = "writeKey=wk&anonymousId=a1"

    @Test(arguments: [
        Case(rule: "minimal page", type: .page, query: base,
             json: #"{"type":"page","anonymousId":"a1",\#(serverTail)}"#),
        Case(rule: "dotted names nest", type: .page, query: base + "&context.library.name=X&context.library.version=1.0",
             json: #"{"type":"page","anonymousId":"a1","context":{"library":{"name":"X","version":"1.0"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7"},"channel":"web",\#(timesTail)}"#),
        Case(rule: "escaped dot is a literal dot", type: .track, query: base + "&event=e&properties.a%5C.b=1&properties.c\\.d.e=2",
             json: #"{"type":"track","anonymousId":"a1","event":"e","properties":{"a.b":"1","c.d":{"e":"2"}},\#(serverTail)}"#),
        Case(rule: "other backslashes stay", type: .track, query: base + "&event=e&properties.a%5Cb=1",
             json: #"{"type":"track","anonymousId":"a1","event":"e","properties":{"a\\b":"1"},\#(serverTail)}"#),
        Case(rule: "digits under a new parent make an array", type: .track, query: base + "&event=e&properties.items.0.sku=x&properties.items.1.sku=y",
             json: #"{"type":"track","anonymousId":"a1","event":"e","properties":{"items":[{"sku":"x"},{"sku":"y"}]},\#(serverTail)}"#),
        Case(rule: "missing array slots are null", type: .track, query: base + "&event=e&properties.tags.2=c&properties.tags.0=a",
             json: #"{"type":"track","anonymousId":"a1","event":"e","properties":{"tags":["a",null,"c"]},\#(serverTail)}"#),
        Case(rule: "digits under an existing object are a key", type: .track, query: base + "&event=e&properties.m.x=1&properties.m.7=2",
             json: #"{"type":"track","anonymousId":"a1","event":"e","properties":{"m":{"x":"1","7":"2"}},\#(serverTail)}"#),
        Case(rule: "a name under an array replaces it", type: .track, query: base + "&event=e&properties.l.0=a&properties.l.k=b",
             json: #"{"type":"track","anonymousId":"a1","event":"e","properties":{"l":{"k":"b"}},\#(serverTail)}"#),
        Case(rule: "a top-level digit name is a key", type: .track, query: base + "&event=e&0=zero",
             json: #"{"type":"track","anonymousId":"a1","event":"e","0":"zero",\#(serverTail)}"#),
        Case(rule: "every value is a string", type: .track, query: base + "&event=e&properties.revenue=9.99&properties.ok=true&properties.n=null",
             json: #"{"type":"track","anonymousId":"a1","event":"e","properties":{"revenue":"9.99","ok":"true","n":"null"},\#(serverTail)}"#),
        Case(rule: "a repeated name keeps its first value", type: .track, query: base + "&event=first&event=second&anonymousId=other",
             json: #"{"type":"track","anonymousId":"a1","event":"first",\#(serverTail)}"#),
        Case(rule: "later pairs replace across kinds in order", type: .track, query: base + "&event=e&a=1&a.b=2&a=3&a.b.c=4",
             json: #"{"type":"track","anonymousId":"a1","event":"e","a":{"b":{"c":"4"}},\#(serverTail)}"#),
        Case(rule: "a string replaces an object", type: .track, query: base + "&event=e&p.q.r=1&p.q=flat",
             json: #"{"type":"track","anonymousId":"a1","event":"e","p":{"q":"flat"},\#(serverTail)}"#),
        Case(rule: "writeKey is taken out, type comes from the route", type: .track, query: "type=page&writeKey=wk&type.x=1&writeKey.y=2&anonymousId=a1&event=e",
             json: #"{"type":"track","anonymousId":"a1","event":"e",\#(serverTail)}"#),
        Case(rule: "anonymousId loses one pair of quotes", type: .page, query: "writeKey=wk&anonymousId=%22%22abc%22%22",
             json: #"{"type":"page","anonymousId":"\"abc\"",\#(serverTail)}"#),
        Case(rule: "a lone quote stays", type: .page, query: "writeKey=wk&anonymousId=%22abc",
             json: #"{"type":"page","anonymousId":"\"abc",\#(serverTail)}"#),
        Case(rule: "empty page name becomes Unknown Page", type: .page, query: base + "&name=",
             json: #"{"type":"page","anonymousId":"a1","name":"Unknown Page",\#(serverTail)}"#),
        Case(rule: "a name key without = is empty too", type: .page, query: base + "&name",
             json: #"{"type":"page","anonymousId":"a1","name":"Unknown Page",\#(serverTail)}"#),
        Case(rule: "track keeps an empty name", type: .track, query: base + "&event=e&name=",
             json: #"{"type":"track","anonymousId":"a1","event":"e","name":"",\#(serverTail)}"#),
        Case(rule: "page fields copy from context.page to properties", type: .page, query: base + "&context.page.url=https%3A%2F%2Fex.com%2F&context.page.title=T",
             json: #"{"type":"page","anonymousId":"a1","context":{"page":{"url":"https://ex.com/","title":"T"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7"},"properties":{"url":"https://ex.com/","title":"T"},"channel":"web",\#(timesTail)}"#),
        Case(rule: "page fields copy from properties to context.page", type: .page, query: base + "&properties.path=%2Fa&properties.referrer=r&properties.other=o",
             json: #"{"type":"page","anonymousId":"a1","properties":{"path":"/a","referrer":"r","other":"o"},"context":{"page":{"path":"/a","referrer":"r"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7"},"channel":"web",\#(timesTail)}"#),
        Case(rule: "page fields present in both places are kept apart", type: .page, query: base + "&properties.url=p&context.page.url=c",
             json: #"{"type":"page","anonymousId":"a1","properties":{"url":"p"},"context":{"page":{"url":"c"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7"},"channel":"web",\#(timesTail)}"#),
        Case(rule: "track does not mirror page fields", type: .track, query: base + "&event=e&context.page.url=u",
             json: #"{"type":"track","anonymousId":"a1","event":"e","context":{"page":{"url":"u"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7"},"channel":"web",\#(timesTail)}"#),
        Case(rule: "fields the query sets are kept", type: .track,
             query: base + "&event=e&channel=email&messageId=m-1&originalTimestamp=t0&sentAt=t1&context.userAgent=UA&context.ip=10.0.0.1&integrations.All=false",
             json: #"{"type":"track","anonymousId":"a1","event":"e","channel":"email","messageId":"m-1","originalTimestamp":"t0","sentAt":"t1","context":{"userAgent":"UA","ip":"203.0.113.7"},"integrations":{"All":false},"timestamp":"\#(fixedTime)","receivedAt":"\#(fixedTime)","request_ip":"203.0.113.7"}"#),
        Case(rule: "receivedAt and request_ip are always the server's", type: .track,
             query: base + "&event=e&receivedAt=1999&request_ip=1.1.1.1",
             json: #"{"type":"track","anonymousId":"a1","event":"e",\#(serverTail)}"#),
        Case(rule: "a string context is replaced to hold the server's fields", type: .track, query: base + "&event=e&context=str",
             json: #"{"type":"track","anonymousId":"a1","event":"e","context":{"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"203.0.113.7"},"channel":"web",\#(timesTail)}"#),
        Case(rule: "control characters, quotes and backslashes stay valid JSON", type: .track, query: base + "&event=e&properties.v=%22%5C%0D%0A%09%01%7F",
             json: #"{"type":"track","anonymousId":"a1","event":"e","properties":{"v":"\"\\\r\n\t\u0001\#u{7F}"},\#(serverTail)}"#),
    ])
    func mapsQueryToEvent(_ c: Case) throws {
        #expect(try eventJSON(c.type, c.query) == c.json)
    }

    @Test func noUserAgentHeaderMeansNoContextUserAgent() throws {
        var facts = fixedFacts
        facts.userAgent = nil
        #expect(try eventJSON(.page, "writeKey=wk&anonymousId=a1", facts: facts)
            == #"{"type":"page","anonymousId":"a1","channel":"web","context":{"ip":"203.0.113.7"},\#(timesTail)}"#)
    }

    // The seed's sample calls, with its ${…} placeholders filled in.
    static let ampContext = "writeKey=2AbCwk&context.library.name=Rudderstack%20AMP%20SDK&context.library.version=1.0.0&context.platform=AMP&anonymousId=amp-3f2a9c&context.locale=en-US&context.userAgent=Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_0)&context.page.path=%2Fblog%2Fpost&context.page.url=https%3A%2F%2Fexample.com%2Fblog%2Fpost&context.page.referrer=https%3A%2F%2Fnews.example%2F&context.page.title=Hello%20World&context.screen.width=390&context.screen.height=844"
    static let ampContextJSON = #""context":{"library":{"name":"Rudderstack AMP SDK","version":"1.0.0"},"platform":"AMP","locale":"en-US","userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)","page":{"path":"/blog/post","url":"https://example.com/blog/post","referrer":"https://news.example/","title":"Hello World"},"screen":{"width":"390","height":"844"},"ip":"203.0.113.7"},"anonymousId":"amp-3f2a9c""#

    @Test func seedSamplePage() throws {
        let query = EventMappingTests.ampContext + "&properties.path=%2Fblog%2Fpost&properties.url=https%3A%2F%2Fexample.com%2Fblog%2Fpost&properties.referrer=https%3A%2F%2Fnews.example%2F&properties.title=Hello%20World&name=Blog%20Post"
        let built = try EventEngine.build(type: .page, query: query, facts: fixedFacts)
        #expect(built.writeKey == "2AbCwk")
        #expect(built.eventText == #"{"type":"page",\#(EventMappingTests.ampContextJSON),"properties":{"path":"/blog/post","url":"https://example.com/blog/post","referrer":"https://news.example/","title":"Hello World"},"name":"Blog Post","channel":"web",\#(timesTail)}"#)
    }

    @Test func seedSampleTrack() throws {
        let query = EventMappingTests.ampContext + "&event=Add%20to%20Cart&properties.key1=value1&properties.key2=value2"
        let built = try EventEngine.build(type: .track, query: query, facts: fixedFacts)
        #expect(built.writeKey == "2AbCwk")
        #expect(built.eventText == #"{"type":"track",\#(EventMappingTests.ampContextJSON),"event":"Add to Cart","properties":{"key1":"value1","key2":"value2"},"channel":"web",\#(timesTail)}"#)
    }

    @Test func recordLineCarriesTheWriteKeyBesideTheEvent() throws {
        let built = try EventEngine.build(type: .page, query: "writeKey=w%22k&anonymousId=a1", facts: fixedFacts)
        #expect(String(decoding: built.recordLine, as: UTF8.self) == #"{"writeKey":"w\"k","event":{"type":"page","anonymousId":"a1",\#(serverTail)}}"# + "\n")
    }
}
