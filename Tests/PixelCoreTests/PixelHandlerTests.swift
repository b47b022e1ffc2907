import Testing
@testable import PixelCore

@Suite("Routes and answers (SPEC §1, §4)")
struct PixelHandlerTests {
    static let noCache = "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nPragma: no-cache\r\nExpires: 0\r\n"

    func handle(_ request: PixelRequest, config: PixelConfiguration = PixelConfiguration(), problems: [ConfigurationProblem] = [],
                sink: InMemorySink = InMemorySink()) -> HandlerOutcome {
        PixelHandler(configuration: config, problems: problems)
            .handle(request, sink: sink, nowMillis: fixedMillis, newMessageId: { fixedMessageId })
    }

    func get(_ uri: String, method: String = "GET") -> PixelRequest {
        PixelRequest(method: method, requestURI: uri, remoteAddr: "203.0.113.7", userAgent: "Mozilla/5.0 (X11; Linux x86_64)")
    }

    func cgi(_ outcome: HandlerOutcome) -> String { String(decoding: outcome.response.cgiBytes(), as: UTF8.self) }

    @Test func successIsExactlyOK() {
        let sink = InMemorySink()
        let outcome = handle(get("/pixel/v1/page?writeKey=wk&anonymousId=a1"), sink: sink)
        #expect(cgi(outcome) == "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\(PixelHandlerTests.noCache)Content-Length: 2\r\n\r\nOK")
        #expect(sink.lines.map { String(decoding: $0, as: UTF8.self) } == [#"{"writeKey":"wk","event":{"type":"page","anonymousId":"a1",\#(serverTail)}}"# + "\n"])
        #expect(outcome.logMessage == nil)
    }

    @Test(arguments: ["/pixel/v1/page", "/collect/pixel/v1/page", "/cgi-bin/pixelgate.cgi/pixel/v1/page"])
    func routesByPathEnd(_ path: String) {
        let sink = InMemorySink()
        #expect(handle(get(path + "?writeKey=wk&anonymousId=a1"), sink: sink).response.status == 200)
        #expect(sink.events.count == 1)
    }

    @Test(arguments: ["/pixel/v1/page/", "/pixel/v1/pages", "/pixel/v1/identify", "/", "/xpixel/v1/pagex"])
    func otherPathsAre404(_ path: String) {
        let sink = InMemorySink()
        let outcome = handle(get(path + "?writeKey=wk&anonymousId=a1"), sink: sink)
        #expect(cgi(outcome) == "Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n\(PixelHandlerTests.noCache)Content-Length: 9\r\n\r\nnot found")
        #expect(sink.events.isEmpty && sink.rejected.isEmpty)
    }

    /// A 404 leaves a trace with what was most likely wrong: the mistakes
    /// a first deployment makes (a trailing slash, a path the web server
    /// changed or did not pass). It was logged at no level at all.
    @Test(arguments: [
        (PixelRequest(requestURI: "/pixel/v1/page/?writeKey=wk"), "not found: /pixel/v1/page/: a trailing slash"),
        (PixelRequest(requestURI: "/t/pixel/v1/track//"), "not found: /t/pixel/v1/track//: a trailing slash"),
        (PixelRequest(requestURI: "/pixel/v1/identify?x=1"), "not found: /pixel/v1/identify: no route 'identify'"),
        (PixelRequest(requestURI: "/v1/page"), "not found: /v1/page: the path must end with one of /pixel/v1/page"),
        (PixelRequest(requestURI: "/a\u{1}b"), "not found: /a?b: the path must end"),
        (PixelRequest(), "not found: the web server passed no path (REQUEST_URI, or SCRIPT_NAME and PATH_INFO)"),
    ])
    func aNotFoundIsLoggedWithAHint(_ request: PixelRequest, _ start: String) {
        let outcome = handle(request, sink: InMemorySink())
        #expect(outcome.response.status == 404)
        #expect(outcome.logLevel == .info && outcome.isRefusal)
        #expect(outcome.logMessage?.hasPrefix(start) == true, "\(outcome.logMessage ?? "nil")")
    }

    @Test func aWrongMethodIsLoggedWithAHint() {
        let post = handle(get("/pixel/v1/page?writeKey=wk&anonymousId=a1", method: "POST"), sink: InMemorySink())
        #expect(post.logLevel == .info && post.logMessage == "method not allowed: POST /pixel/v1/page: a pixel is fetched with GET (or HEAD)")
        let none = handle(PixelRequest(method: nil, requestURI: "/pixel/v1/page?writeKey=wk"), sink: InMemorySink())
        #expect(none.response.status == 405 && none.logMessage?.contains("no REQUEST_METHOD") == true)
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS", "get"])
    func otherMethodsAre405(_ method: String) {
        let sink = InMemorySink()
        let outcome = handle(get("/pixel/v1/track?writeKey=wk&anonymousId=a1&event=e", method: method), sink: sink)
        #expect(outcome.response.status == 405)
        #expect(outcome.response.header("Allow") == "GET, HEAD")
        #expect(sink.events.isEmpty)
    }

    @Test func pathFallsBackToScriptNameAndPathInfo() {
        let sink = InMemorySink()
        let request = PixelRequest(method: "GET", scriptName: "/cgi-bin/pixelgate", pathInfo: "/pixel/v1/track",
                                   queryString: Array("writeKey=wk&anonymousId=a1&event=e".utf8), remoteAddr: "203.0.113.7")
        #expect(handle(request, sink: sink).response.status == 200)
        #expect(sink.events.first?.eventText.hasPrefix(#"{"type":"track","#) == true)
    }

    @Test func queryFallsBackToRequestURI() {
        let sink = InMemorySink()
        #expect(handle(PixelRequest(requestURI: "/pixel/v1/page?writeKey=wk&anonymousId=a1", remoteAddr: "203.0.113.7"), sink: sink).response.status == 200)
        #expect(sink.events.count == 1)
    }

    @Test func queryStringWinsOverRequestURI() {
        let sink = InMemorySink()
        let request = PixelRequest(requestURI: "/pixel/v1/page?writeKey=from-uri&anonymousId=a1",
                                   queryString: Array("writeKey=from-qs&anonymousId=a1".utf8), remoteAddr: "1.1.1.1")
        _ = handle(request, sink: sink)
        #expect(sink.events.first?.writeKey == "from-qs")
    }

    @Test func headAnswersLikeGetAndRecordsNothing() {
        let sink = InMemorySink()
        let get = handle(get("/pixel/v1/page?writeKey=wk&anonymousId=a1"), sink: InMemorySink())
        let head = handle(self.get("/pixel/v1/page?writeKey=wk&anonymousId=a1", method: "HEAD"), sink: sink)
        #expect(head.response.status == 200)
        #expect(head.response.headers == get.response.headers)
        #expect(cgi(head) == "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\(PixelHandlerTests.noCache)Content-Length: 2\r\n\r\n")
        let badHead = handle(self.get("/pixel/v1/track?writeKey=wk", method: "HEAD"), sink: sink)
        #expect(badHead.response.status == 400)
        #expect(cgi(badHead).hasSuffix("Content-Length: 39\r\n\r\n"))
        #expect(sink.events.isEmpty && sink.rejected.isEmpty)
    }

    @Test func refusedHitIsLoggedAndRecorded() {
        let sink = InMemorySink()
        let outcome = handle(get("/pixel/v1/track?writeKey=wk&anonymousId=a1"), sink: sink)
        #expect(cgi(outcome) == "Status: 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\(PixelHandlerTests.noCache)Content-Length: 33\r\n\r\nmissing required parameter: event")
        #expect(outcome.logLevel == .warn)
        #expect(outcome.logMessage == "refused track hit: 400 missing required parameter: event (ip=203.0.113.7)")
        #expect(sink.rejected.count == 1)
        let line = String(decoding: sink.rejected[0].recordLine, as: UTF8.self)
        #expect(line == #"{"receivedAt":"\#(fixedTime)","status":"400","code":"missing_event","reason":"missing required parameter: event","route":"track","ip":"203.0.113.7","query":"writeKey=wk&anonymousId=a1"}"# + "\n")
    }

    @Test func tooLongQueryIs414AndRecordedCut() {
        let sink = InMemorySink()
        let query = "writeKey=wk&anonymousId=a1&p=" + String(repeating: "x", count: 20_000)
        let outcome = handle(get("/pixel/v1/page?" + query), sink: sink)
        #expect(outcome.response.status == 414)
        #expect(String(decoding: outcome.response.body, as: UTF8.self) == "query string too long")
        #expect(sink.rejected.first?.query.count == RejectedHit.maxQueryBytes)
    }

    @Test func gifFormatAnswersSuccessWithTheImage() {
        var config = PixelConfiguration()
        config.response = .gif
        let ok = handle(get("/pixel/v1/page?writeKey=wk&anonymousId=a1"), config: config)
        #expect(ok.response.status == 200)
        #expect(ok.response.header("Content-Type") == "image/gif")
        #expect(ok.response.body == PixelResponse.transparentGIF)
        #expect(ok.response.body.count == 43)
        #expect(cgi(ok).hasPrefix("Status: 200 OK\r\nContent-Type: image/gif\r\n\(PixelHandlerTests.noCache)Content-Length: 43\r\n\r\nGIF89a"))
        let bad = handle(get("/pixel/v1/page?writeKey=wk"), config: config)
        #expect(bad.response.status == 400)
        #expect(bad.response.header("Content-Type") == "text/plain; charset=utf-8")
    }

    @Test func transparentGIFMatchesTheSpec() {
        // R0lGODlhAQABAIAAAAAAAAAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw== decoded.
        let base64 = "R0lGODlhAQABAIAAAAAAAAAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var bits = 0, count = 0
        var bytes: [UInt8] = []
        for c in base64.utf8 where c != UInt8(ascii: "=") {
            bits = bits << 6 | alphabet.firstIndex(of: c)!
            count += 6
            if count >= 8 { count -= 8; bytes.append(UInt8((bits >> count) & 0xFF)) }
        }
        #expect(bytes == PixelResponse.transparentGIF)
    }

    @Test func gifAlwaysAnswersRefusedHitsWithTheImageButRecordsThem() {
        var config = PixelConfiguration()
        config.response = .gifAlways
        let sink = InMemorySink()
        let outcome = handle(get("/pixel/v1/track?writeKey=wk&anonymousId=a1"), config: config, sink: sink)
        #expect(outcome.response.status == 200)
        #expect(outcome.response.body == PixelResponse.transparentGIF)
        #expect(sink.events.isEmpty)
        #expect(sink.rejected.count == 1)
        #expect(outcome.logMessage?.contains("missing required parameter: event") == true)
    }

    @Test func gifAlwaysStillAnswers503WhenTheEventIsNotKept() {
        var config = PixelConfiguration()
        config.response = .gifAlways
        let sink = InMemorySink()
        sink.failure = SinkError("write /spool/current.ndjson: No space left on device")
        #expect(handle(get("/pixel/v1/page?writeKey=wk&anonymousId=a1"), config: config, sink: sink).response.status == 503)
    }

    @Test func storageFailureIs503WithRetryAfterAndNoDetailForTheClient() {
        let sink = InMemorySink()
        sink.failure = SinkError("write /spool/current.ndjson: No space left on device (errno 28)")
        let outcome = handle(get("/pixel/v1/page?writeKey=wk&anonymousId=a1"), sink: sink)
        #expect(cgi(outcome) == "Status: 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 10\r\n\(PixelHandlerTests.noCache)Content-Length: 33\r\n\r\nevent not stored, try again later")
        #expect(outcome.logLevel == .error)
        #expect(outcome.logMessage?.contains("No space left on device") == true)
        #expect(sink.counted == [.unstored(.unavailable)])
        // Refused and dropped hits are counted by their reasons.
        _ = handle(get("/pixel/v1/page?writeKey=wk"), sink: sink)
        #expect(sink.counted == [.unstored(.unavailable), .refused(code: "missing_anonymous_id")])
    }

    @Test func misconfigurationIs500WithDetailsOnlyInTheLog() {
        let (config, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_RESPONSE": "png"])
        let sink = InMemorySink()
        let outcome = handle(get("/pixel/v1/page?writeKey=wk&anonymousId=a1"), config: config, problems: problems, sink: sink)
        #expect(cgi(outcome) == "Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\(PixelHandlerTests.noCache)Content-Length: 20\r\n\r\nserver misconfigured")
        #expect(outcome.logMessage?.contains("PIXELGATE_RESPONSE") == true)
        #expect(sink.events.isEmpty)
        // Warnings alone do not stop service.
        let (config2, warnings) = PixelConfiguration.resolve(environment: ["PIXELGATE_TYPO": "1"])
        #expect(handle(get("/pixel/v1/page?writeKey=wk&anonymousId=a1"), config: config2, problems: warnings).response.status == 200)
    }

    @Test func writeKeyAllowListIsEnforced() {
        var config = PixelConfiguration()
        config.writeKeys = ["live-key"]
        #expect(handle(get("/pixel/v1/page?writeKey=other&anonymousId=a1"), config: config).response.body == Array("invalid write key".utf8))
        #expect(handle(get("/pixel/v1/page?writeKey=live-key&anonymousId=a1"), config: config).response.status == 200)
    }

    @Test func trustedProxyDecidesRequestIP() {
        var config = PixelConfiguration()
        config.trustedProxies = [IPNetwork("127.0.0.1")!]
        let sink = InMemorySink()
        var request = get("/pixel/v1/page?writeKey=wk&anonymousId=a1")
        request.remoteAddr = "127.0.0.1"
        request.forwardedFor = "6.6.6.6, 198.51.100.20"
        _ = handle(request, config: config, sink: sink)
        #expect(sink.events.first?.eventText.hasSuffix(#""request_ip":"198.51.100.20"}"#) == true)
        #expect(sink.events.first?.eventText.contains(#","ip":"198.51.100.20"},"#) == true)
    }
}

@Suite("Formats")
struct FormatTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(951_782_400_000), "2000-02-29T00:00:00.000Z"),
        (Int64(4_102_444_799_999), "2099-12-31T23:59:59.999Z"),
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
        (fixedMillis, fixedTime),
    ])
    func iso8601(_ c: (Int64, String)) {
        #expect(ISO8601.format(millis: c.0) == c.1)
    }

    @Test(arguments: [Int64(0), 951_782_400_000, 4_102_444_799_999, -1, fixedMillis, 1_709_164_800_123])
    func iso8601ParsesWhatItFormats(_ millis: Int64) {
        #expect(ISO8601.parse(Substring(ISO8601.format(millis: millis))) == millis)
    }

    @Test(arguments: ["", "2026-11-27T13:26:12.345", "2026-13-27T13:26:12.345Z", "2026-11-27 13:26:12.345Z", "2026-11-27T13:26:1x.345Z"])
    func iso8601RefusesOtherText(_ text: String) {
        #expect(ISO8601.parse(Substring(text)) == nil)
    }

    @Test func uuidHasVersion4AndVariantBits() {
        #expect(UUIDText.v4(0, 0) == "00000000-0000-4000-8000-000000000000")
        #expect(UUIDText.v4(.max, .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        #expect(UUIDText.v4(0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210) == "01234567-89ab-4def-bedc-ba9876543210")
    }

    @Test func logLinesCannotBeForged() {
        let line = String(decoding: LogLine.format(millis: fixedMillis, pid: 42, level: "warn", message: "a\nfake: b\r"), as: UTF8.self)
        #expect(line == "\(fixedTime) pixelgate[42] warn: a fake: b \n")
    }

    @Test func jsonEscapesEveryControlCharacter() {
        let all = String(decoding: (0..<32).map { UInt8($0) }, as: UTF8.self)
        let json = JSONValue.string(all).jsonString
        #expect(!json.utf8.contains { $0 < 0x20 })
        #expect(json.hasPrefix(#""\u0000\u0001"#))
    }
}
