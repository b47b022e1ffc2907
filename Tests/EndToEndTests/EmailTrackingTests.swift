import Foundation
import PixelCore
import Testing

/// Click links and dropped machine hits through the real binary: nginx with
/// the shipped server block in front of `serve`, curl as the mail reader.
@Suite("E-mail tracking end to end")
struct EmailTrackingTests {
    static let secret = "mail-secret-0123456789abcdef"
    static let target = "https://shop.example/p/42?utm_source=mail&utm_campaign=dec%202026&a=1&b=2#reviews"

    @Test func signedClickLinksRedirectAndRecordOnce() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let env = ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_SIGNING_KEYS": "wk:\(Self.secret)"]
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1, environment: env)
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        let base = "http://127.0.0.1:\(port)/pixel/v1/click?writeKey=wk&anonymousId=reader-7&properties.campaign=dec"

        // pixelgate sign writes the link a mailer puts in the mail.
        let signing = try runPixelgate(["sign", "--target", Self.target, base], environment: env)
        #expect(signing.status == 0, "\(signing.stderr)")
        let link = String(decoding: signing.stdout, as: UTF8.self).trimmingCharacters(in: .newlines)
        #expect(link.contains("&url=https%3A%2F%2Fshop.example") && link.contains("&sig="), "\(link)")

        var attempts: [(String, String, Int)] = []  // what was tried, the link, the status expected
        attempts.append(("signed", link, 302))
        attempts.append(("head of signed", link, 302))
        attempts.append(("unsigned", String(link[..<link.range(of: "&sig=")!.lowerBound]), 400))
        attempts.append(("tampered target", link.replacingOccurrences(of: "shop.example", with: "evil.example"), 400))
        attempts.append(("tampered reader", link.replacingOccurrences(of: "reader-7", with: "reader-8"), 400))
        // sign refuses a link that has expired already, as the server would...
        let expired = try runPixelgate(["sign", "--target", Self.target, base + "&exp=1000000000"], environment: env)
        #expect(expired.status == 2 && expired.stdout.isEmpty && expired.stderr.contains("400 signature expired"), "\(expired.stderr)")
        // ...which a mailer signing for itself can still make.
        let unsignedPart = String(link[..<link.range(of: "&sig=")!.lowerBound]) + "&exp=1000000000"
        let expiredQuery = String(unsignedPart[unsignedPart.range(of: "?")!.upperBound...])
        attempts.append(("expired", unsignedPart + "&sig=" + PixelSignature.signature(route: "click", of: Array(expiredQuery.utf8), secret: Self.secret), 400))
        for (label, url, status) in attempts {
            let answer = try httpRequest(url, method: label.hasPrefix("head") ? "HEAD" : "GET")
            #expect(answer.status == status, "\(label): \(answer.status) \(answer.text)")
            if status == 302 {
                // Byte for byte: the target's own query and fragment survive.
                #expect(answer.headers["location"] == Self.target, "\(label): \(answer.headers)")
            } else {
                #expect(answer.headers["location"] == nil, "\(label)")
            }
        }
        nginx.stop()
        #expect(serve.stop().status == 0)

        // Six tried, one GET was signed: exactly one click, nothing refused kept.
        let lines = scratch.spoolLines
        #expect(lines.count == 1, "\(lines)")
        let line = try #require(lines.first)
        let event = try #require(try jsonObject(line)["event"] as? [String: Any])
        #expect(event["type"] as? String == "track" && event["event"] as? String == "Link Clicked")
        let properties = try #require(event["properties"] as? [String: Any])
        #expect(properties["url"] as? String == Self.target && properties["campaign"] as? String == "dec")
        #expect(event["url"] == nil && event["sig"] == nil && event["exp"] == nil)
        #expect(scratch.rejectedLines.isEmpty)
    }

    /// Dropped hits are answered like kept ones and counted: what went in
    /// equals what was stored plus what `stats` reports dropped.
    @Test func droppedHitsAreCountedByStats() throws {
        let scratch = Scratch()
        let env = ["PIXELGATE_HIT_CLASSES": "bot=drop,mail-proxy=drop", "PIXELGATE_CONSENT": "drop", "PIXELGATE_RESPONSE": "gif"]
        let hits: [(String, [String: String])] = [
            ("googlebot", ["HTTP_USER_AGENT": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]),
            ("slack", ["HTTP_USER_AGENT": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"]),
            ("apple-mpp", ["HTTP_USER_AGENT": "Mozilla/5.0"]),
            ("gpc", ["HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "HTTP_SEC_GPC": "1"]),
            ("prefetch", ["HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/143.0.0.0 Safari/537.36", "HTTP_SEC_PURPOSE": "prefetch"]),
            ("person", ["HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/143.0.0.0 Safari/537.36"]),
        ]
        for (label, headers) in hits {
            let cgi = try runPixelgate([], environment: cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=\(label)", spool: scratch.spool,
                                                                      extra: env.merging(headers) { $1 }))
            let head = String(decoding: cgi.stdout.prefix(64), as: UTF8.self)
            #expect(head.hasPrefix("Status: 200 OK\r\nContent-Type: image/gif"), "\(label): \(head)")
        }
        let stored = scratch.spoolLines.compactMap { try? jsonObject($0)["event"] as? [String: Any] }.compactMap { $0["anonymousId"] as? String }
        #expect(Set(stored) == ["prefetch", "person"])
        let stats = try runPixelgate(["stats", "--json"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(stats.status == 0)
        let dropped = try #require(try jsonObject(String(decoding: stats.stdout, as: UTF8.self))["dropped"] as? [String: Int])
        #expect(dropped == ["human": 0, "mail-proxy": 1, "prefetch": 0, "bot": 2, "consent": 1])
        #expect(stored.count + dropped.values.reduce(0, +) == hits.count)
        let text = try runPixelgate(["stats"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(String(decoding: text.stdout, as: UTF8.self).contains("dropped by choice: human 0, mail-proxy 1, prefetch 0, bot 2, consent 1"))
    }
}
