import Foundation
import Testing

/// The built binary run as plain CGI, the way Apache mod_cgi and fcgiwrap
/// run it: environment in, `Status:` + headers + body out.
@Suite("pixelgate as CGI")
struct CGITests {
    static let noCache = "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nPragma: no-cache\r\nExpires: 0\r\n"

    @Test func acceptedHitAnswersOKAndSpoolsTheEvent() throws {
        let scratch = Scratch()
        let uri = "/pixel/v1/track?writeKey=wk1&anonymousId=%22anon-9%22&event=Order%20Completed&properties.revenue=9.99&properties.items.0.sku=A1"
        let result = try runPixelgate(environment: cgiEnvironment(uri, spool: scratch.spool))
        #expect(result.status == 0)
        #expect(result.stdoutText == "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\(CGITests.noCache)Content-Length: 2\r\n\r\nOK")
        #expect(result.stderr == "")
        let lines = scratch.spoolLines
        #expect(lines.count == 1)
        let record = try jsonObject(lines[0])
        #expect(record["writeKey"] as? String == "wk1")
        let event = try #require(record["event"] as? [String: Any])
        #expect(event["type"] as? String == "track")
        #expect(event["anonymousId"] as? String == "anon-9")
        #expect(event["event"] as? String == "Order Completed")
        #expect(event["request_ip"] as? String == "198.51.100.23")
        let context = try #require(event["context"] as? [String: Any])
        #expect(context["userAgent"] as? String == "e2e-test/1.0")
        #expect(context["ip"] as? String == "198.51.100.23")
        let properties = try #require(event["properties"] as? [String: Any])
        #expect(properties["revenue"] as? String == "9.99")
        #expect((properties["items"] as? [[String: String]]) == [["sku": "A1"]])
        let messageId = try #require(event["messageId"] as? String)
        #expect(messageId.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil)
        let receivedAt = try #require(event["receivedAt"] as? String)
        #expect(receivedAt.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
        #expect(event["sentAt"] as? String == receivedAt)
        #expect(event["originalTimestamp"] as? String == receivedAt)
    }

    @Test func seedSamplePageURLThroughRequestURIOnly() throws {
        let scratch = Scratch()
        let query = "writeKey=2AbCwk&context.library.name=Rudderstack%20AMP%20SDK&context.library.version=1.0.0&context.platform=AMP&anonymousId=amp-3f2a9c&context.locale=en-US&context.userAgent=AMP-UA&context.page.path=%2Fp&context.page.url=https%3A%2F%2Fex.com%2Fp&context.page.referrer=https%3A%2F%2Fref.example%2F&context.page.title=T&context.screen.width=390&context.screen.height=844&properties.path=%2Fp&properties.url=https%3A%2F%2Fex.com%2Fp&properties.referrer=https%3A%2F%2Fref.example%2F&properties.title=T&name=Home"
        var env = cgiEnvironment("/pixel/v1/page?" + query, spool: scratch.spool)
        env["QUERY_STRING"] = nil
        let result = try runPixelgate(environment: env)
        #expect(result.stdoutText.hasSuffix("\r\n\r\nOK"))
        let line = try #require(scratch.spoolLines.first)
        let event = try #require(try jsonObject(line)["event"] as? [String: Any])
        // Everything but the per-hit id and times is fixed by the query.
        let time = try #require(event["receivedAt"] as? String)
        let id = try #require(event["messageId"] as? String)
        let expected = #"{"writeKey":"2AbCwk","event":{"type":"page","context":{"library":{"name":"Rudderstack AMP SDK","version":"1.0.0"},"platform":"AMP","locale":"en-US","userAgent":"AMP-UA","page":{"path":"/p","url":"https://ex.com/p","referrer":"https://ref.example/","title":"T"},"screen":{"width":"390","height":"844"},"ip":"198.51.100.23"},"anonymousId":"amp-3f2a9c","properties":{"path":"/p","url":"https://ex.com/p","referrer":"https://ref.example/","title":"T"},"name":"Home","channel":"web","integrations":{"All":true},"messageId":"\#(id)","timestamp":"\#(time)","originalTimestamp":"\#(time)","sentAt":"\#(time)","receivedAt":"\#(time)","request_ip":"198.51.100.23"}}"#
        #expect(line == expected)
    }

    struct Answer: CustomTestStringConvertible, Sendable {
        let name: String
        let uri: String
        var method = "GET"
        var extra: [String: String] = [:]
        let output: String
        var spooled = 0
        var rejected = 0
        var testDescription: String { name }
    }

    @Test(arguments: [
        Answer(name: "missing writeKey", uri: "/pixel/v1/page?anonymousId=a",
               output: "Status: 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\(noCache)Content-Length: 36\r\n\r\nmissing required parameter: writeKey", rejected: 1),
        Answer(name: "malformed escape", uri: "/pixel/v1/page?writeKey=k&anonymousId=a&properties.a=%zz",
               output: "Status: 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\(noCache)Content-Length: 52\r\n\r\ninvalid percent-encoding in parameter 'properties.a'", rejected: 1),
        Answer(name: "unknown path", uri: "/pixel/v1/identify?writeKey=k&anonymousId=a",
               output: "Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n\(noCache)Content-Length: 9\r\n\r\nnot found"),
        Answer(name: "trailing slash", uri: "/pixel/v1/page/?writeKey=k&anonymousId=a",
               output: "Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n\(noCache)Content-Length: 9\r\n\r\nnot found"),
        Answer(name: "POST", uri: "/pixel/v1/page?writeKey=k&anonymousId=a", method: "POST",
               output: "Status: 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nAllow: GET, HEAD\r\n\(noCache)Content-Length: 18\r\n\r\nmethod not allowed"),
        Answer(name: "HEAD records nothing", uri: "/pixel/v1/page?writeKey=k&anonymousId=a", method: "HEAD",
               output: "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\(noCache)Content-Length: 2\r\n\r\n"),
        Answer(name: "mounted under a CGI script path", uri: "/cgi-bin/pixelgate.cgi/pixel/v1/page?writeKey=k&anonymousId=a",
               output: "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\(noCache)Content-Length: 2\r\n\r\nOK", spooled: 1),
        Answer(name: "gif response", uri: "/pixel/v1/page?writeKey=k&anonymousId=a", extra: ["PIXELGATE_RESPONSE": "gif"],
               output: "Status: 200 OK\r\nContent-Type: image/gif\r\n\(noCache)Content-Length: 43\r\n\r\n" + String(decoding: [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B] as [UInt8], as: UTF8.self), spooled: 1),
        Answer(name: "gif-always answers a refused hit with the image", uri: "/pixel/v1/track?writeKey=k&anonymousId=a", extra: ["PIXELGATE_RESPONSE": "gif-always"],
               output: "Status: 200 OK\r\nContent-Type: image/gif\r\n\(noCache)Content-Length: 43\r\n\r\n" + String(decoding: [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B] as [UInt8], as: UTF8.self), rejected: 1),
        Answer(name: "write key not allowed", uri: "/pixel/v1/page?writeKey=k&anonymousId=a", extra: ["PIXELGATE_WRITE_KEYS": "live1,live2"],
               output: "Status: 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\(noCache)Content-Length: 17\r\n\r\ninvalid write key", rejected: 1),
        Answer(name: "bad setting", uri: "/pixel/v1/page?writeKey=k&anonymousId=a", extra: ["PIXELGATE_FSYNC": "sometimes"],
               output: "Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\(noCache)Content-Length: 20\r\n\r\nserver misconfigured"),
    ])
    func answersExactly(_ c: Answer) throws {
        let scratch = Scratch()
        let result = try runPixelgate(environment: cgiEnvironment(c.uri, method: c.method, spool: scratch.spool, extra: c.extra))
        #expect(result.status == 0)
        #expect(result.stdoutText == c.output)
        #expect(scratch.spoolLines.count == c.spooled)
        #expect(scratch.rejectedLines.count == c.rejected)
    }

    @Test func refusalsAndMisconfigurationAreExplainedInTheLogOnly() throws {
        let scratch = Scratch()
        let refused = try runPixelgate(environment: cgiEnvironment("/pixel/v1/track?writeKey=k&anonymousId=a", spool: scratch.spool))
        #expect(refused.stderr.range(of: #"^\d{4}-\d\d-\d\dT[\d:.]+Z pixelgate\[\d+\] warn: refused track hit: 400 missing required parameter: event \(ip=198\.51\.100\.23\)\n$"#, options: .regularExpression) != nil)
        let rejected = try jsonObject(try #require(scratch.rejectedLines.first))
        #expect(rejected["reason"] as? String == "missing required parameter: event")
        #expect(rejected["query"] as? String == "writeKey=k&anonymousId=a")

        let misconfigured = try runPixelgate(environment: cgiEnvironment("/pixel/v1/page?writeKey=k&anonymousId=a", spool: scratch.spool, extra: ["PIXELGATE_SPOOL_DIR": "relative"]))
        #expect(misconfigured.stdoutText.hasSuffix("server misconfigured"))
        #expect(misconfigured.stderr.contains("error: server misconfigured: PIXELGATE_SPOOL_DIR: must be an absolute path"))
    }

    @Test func unusableSpoolAnswers503AndLeavesNoLine() throws {
        let scratch = Scratch()
        // A regular file where the spool directory should be: no user can
        // write there, root included.
        #expect(FileManager.default.createFile(atPath: scratch.spool, contents: Data("not a directory".utf8)))
        let result = try runPixelgate(environment: cgiEnvironment("/pixel/v1/page?writeKey=k&anonymousId=a", spool: scratch.spool))
        #expect(result.stdoutText == "Status: 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 10\r\n\(CGITests.noCache)Content-Length: 33\r\n\r\nevent not stored, try again later")
        #expect(result.stderr.contains("error: event not stored:"))
        #expect(result.stderr.contains(scratch.spool))
        #expect(!result.stdoutText.contains(scratch.spool))
    }

    @Test func settingsComeFromTheConfigFileToo() throws {
        let scratch = Scratch()
        let file = scratch.path + "/pixelgate.conf"
        try "# test\nPIXELGATE_RESPONSE=gif\nPIXELGATE_WRITE_KEYS=only-this\n".write(toFile: file, atomically: true, encoding: .utf8)
        let env = cgiEnvironment("/pixel/v1/page?writeKey=only-this&anonymousId=a", spool: scratch.spool, extra: ["PIXELGATE_CONFIG": file])
        let ok = try runPixelgate(environment: env)
        #expect(ok.stdoutText.contains("Content-Type: image/gif"))
        var other = env
        other["REQUEST_URI"] = "/pixel/v1/page?writeKey=another&anonymousId=a"
        other["QUERY_STRING"] = "writeKey=another&anonymousId=a"
        #expect(try runPixelgate(environment: other).stdoutText.hasSuffix("invalid write key"))
        // The environment wins over the file.
        var overridden = env
        overridden["PIXELGATE_RESPONSE"] = "text"
        #expect(try runPixelgate(environment: overridden).stdoutText.hasSuffix("\r\n\r\nOK"))
    }

    @Test func isIndexArgumentsFromTheWebServerAreIgnored() throws {
        // Apache passes a query without '=' as argv to a CGI program.
        let scratch = Scratch()
        let result = try runPixelgate(["check"], environment: cgiEnvironment("/pixel/v1/page?check", spool: scratch.spool))
        #expect(result.stdoutText.hasSuffix("missing required parameter: writeKey"))
    }
}
