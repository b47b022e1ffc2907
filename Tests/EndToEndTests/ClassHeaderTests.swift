import Foundation
import Testing

/// `PIXELGATE_CLASS_HEADER=on`: every pixel and click answer says how its
/// hit was classed (issue 29), as plain CGI and through nginx and `serve`;
/// off by default, when no answer says it.
@Suite("The class a hit was given, in its answer")
struct ClassHeaderTests {
    /// User agents tried, and the header each answer must carry.
    static let cases: [(agent: String?, header: String)] = [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "human"),
        ("curl/7.88.1", "bot; rule=scripted-client"),
        ("python-requests/2.31.0", "bot; rule=scripted-client"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36",
         "bot; rule=headless-browser"),
        (nil, "bot; rule=no-user-agent"),
        ("Mozilla/5.0", "mail-proxy; rule=apple-mail-privacy-protection"),
    ]

    @Test func cgiAnswersSayTheClassWhenAskedAndOnlyThen() throws {
        let scratch = Scratch()
        for (agent, header) in Self.cases {
            var env = cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=a", spool: scratch.spool, extra: ["PIXELGATE_CLASS_HEADER": "on"])
            env["HTTP_USER_AGENT"] = agent
            let on = try runPixelgate([], environment: env)
            #expect(on.stdoutText.hasPrefix("Status: 200 OK\r\n") && on.stdoutText.contains("\r\nX-Pixelgate-Class: \(header)\r\n"),
                    "\(agent ?? "no agent"): \(on.stdoutText)")
            env["PIXELGATE_CLASS_HEADER"] = nil
            let off = try runPixelgate([], environment: env)
            #expect(off.stdoutText.hasPrefix("Status: 200 OK\r\n") && !off.stdoutText.contains("X-Pixelgate-Class"), "\(off.stdoutText)")
        }
        // Refused hits and HEAD say it too: it is for finding out why.
        var env = cgiEnvironment("/pixel/v1/track?writeKey=wk&anonymousId=a", spool: scratch.spool, extra: ["PIXELGATE_CLASS_HEADER": "on"])
        env["HTTP_USER_AGENT"] = "curl/7.88.1"
        let refused = try runPixelgate([], environment: env)
        #expect(refused.stdoutText.hasPrefix("Status: 400") && refused.stdoutText.contains("\r\nX-Pixelgate-Class: bot; rule=scripted-client\r\n"))
        env["REQUEST_METHOD"] = "HEAD"
        env["QUERY_STRING"] = "writeKey=wk&anonymousId=a"
        env["REQUEST_URI"] = "/pixel/v1/page?writeKey=wk&anonymousId=a"
        let head = try runPixelgate([], environment: env)
        #expect(head.stdoutText.contains("\r\nX-Pixelgate-Class: bot; rule=scripted-client\r\n"), "\(head.stdoutText)")
        // Stored: 2 hits of each of the 6 agents (on and off), nothing else.
        #expect(scratch.spoolLines.count == 12)
    }

    @Test func throughNginxAndServe() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1,
                                     environment: ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_CLASS_HEADER": "on"])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        defer { nginx.stop() }
        for (agent, header) in Self.cases {
            let answer = try httpRequest("http://127.0.0.1:\(port)/pixel/v1/page?writeKey=wk&anonymousId=a", userAgent: agent ?? "")
            #expect(answer.status == 200 && answer.headers["x-pixelgate-class"] == header, "\(agent ?? "no agent"): \(answer.headers)")
        }
        #expect(serve.stop().status == 0)
    }

    /// `sign --target` writes when it signed; a click right after is a
    /// scanner's (`click-before-read`), still redirected and stored marked;
    /// with `PIXELGATE_EARLY_CLICK=0` it is classed by its headers alone.
    @Test func aClickSignedAMomentAgoIsAScanners() throws {
        let scratch = Scratch()
        let keys = ["PIXELGATE_SIGNING_KEYS": "mail:0123456789abcdef-mail-secret", "PIXELGATE_CLASS_HEADER": "on"]
        let signed = try runPixelgate(["sign", "--target", "https://shop.example/sale", "https://h.example/pixel/v1/click?writeKey=mail&anonymousId=r1"],
                                      environment: keys)
        let url = signed.stdoutText.trimmingCharacters(in: .newlines)
        #expect(signed.status == 0 && url.contains("&st=") && url.contains("&sig="), "\(url) \(signed.stderr)")
        let uri = String(url.dropFirst("https://h.example".count))
        let soon = try runPixelgate([], environment: cgiEnvironment(uri, spool: scratch.spool, extra: keys))
        #expect(soon.stdoutText.hasPrefix("Status: 302 Found\r\n") && soon.stdoutText.contains("X-Pixelgate-Class: bot; rule=click-before-read"),
                "\(soon.stdoutText)")
        let off = try runPixelgate([], environment: cgiEnvironment(uri, spool: scratch.spool, extra: keys.merging(["PIXELGATE_EARLY_CLICK": "0"]) { $1 }))
        #expect(off.stdoutText.hasPrefix("Status: 302 Found\r\n") && off.stdoutText.contains("X-Pixelgate-Class: human"), "\(off.stdoutText)")
        let events = try scratch.spoolLines.map { try #require(try jsonObject($0)["event"] as? [String: Any]) }
        #expect(events.count == 2)
        let marks = events.map { (($0["context"] as? [String: Any])?["traffic"] as? [String: Any])?["rule"] as? String }
        #expect(marks == ["click-before-read", nil], "\(marks)")
        #expect(events.allSatisfy { $0["st"] == nil && ($0["properties"] as? [String: Any])?["url"] as? String == "https://shop.example/sale" })
    }
}
