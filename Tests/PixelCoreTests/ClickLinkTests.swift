import Testing
@testable import PixelCore

/// `/pixel/v1/click`: a signed link records a track event and answers 302
/// to its target; anything else answers 400 and records nothing.
@Suite("Click-through links")
struct ClickLinkTests {
    static let secret = "click-secret-0123456789abcdef"
    static let target = "https://shop.example/p/42?utm_source=mail&a=1&b=%2F#reviews"
    /// The target as a parameter value: every byte but the unreserved escaped.
    static var encodedTarget: String {
        var out = ""
        for b in target.utf8 {
            let keep = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || [0x2D, 0x2E, 0x5F, 0x7E].contains(b)
            out += keep ? String(UnicodeScalar(b)) : "%" + String(b, radix: 16, uppercase: true).leftPad
        }
        return out
    }

    static func signed(_ query: String, route: String = "click") -> String {
        query + "&sig=" + PixelSignature.signature(route: route, of: Array(query.utf8), secret: secret)
    }

    static func handle(_ query: String, method: String = "GET", keys: [String: String] = ["wk": secret], now: Int64 = fixedMillis,
                       sink: InMemorySink) -> HandlerOutcome {
        var config = PixelConfiguration()
        config.signingKeys = keys
        config.response = .gifAlways
        return PixelHandler(configuration: config).handle(
            PixelRequest(method: method, requestURI: "/mail/pixel/v1/click?" + query, remoteAddr: "203.0.113.7"),
            sink: sink, nowMillis: now, newMessageId: { fixedMessageId })
    }

    static let base = "writeKey=wk&anonymousId=reader-9&properties.campaign=dec"

    /// A click sooner after its link was signed than a person reads mail
    /// (`st=`, which `sign --target` adds) is a scanner's: classed `bot`,
    /// rule `click-before-read`, still redirected and kept (marked); later
    /// clicks, links without `st` (signed before it existed) and the
    /// setting at 0 are not; an `st` changed after signing is refused.
    @Test func aClickTooSoonAfterSigningIsAScanners() throws {
        let signedAt = fixedMillis / 1000 - 2
        let link = Self.signed(Self.base + "&url=" + Self.encodedTarget + "&st=\(signedAt)")
        func click(_ query: String, at now: Int64, early: Int? = nil) -> (HandlerOutcome, String) {
            let sink = InMemorySink()
            var config = PixelConfiguration()
            config.signingKeys = ["wk": Self.secret]
            if let early { config.earlyClickMillis = early }
            let outcome = PixelHandler(configuration: config).handle(
                PixelRequest(requestURI: "/pixel/v1/click?" + query, remoteAddr: "203.0.113.7",
                             userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
                sink: sink, nowMillis: now, newMessageId: { fixedMessageId })
            return (outcome, sink.events.first?.eventText ?? "")
        }
        let (soon, soonEvent) = click(link, at: fixedMillis)
        #expect(soon.response.status == 302)
        #expect(soonEvent.contains(#""traffic":{"class":"bot","rule":"click-before-read"}"#), "\(soonEvent)")
        #expect(!soonEvent.contains(#""st""#), "st is the signature's, not the event's: \(soonEvent)")
        let (_, lateEvent) = click(link, at: (signedAt + 5) * 1000)
        #expect(!lateEvent.contains("traffic") && lateEvent.contains("Link Clicked"), "5 s after signing is a person's: \(lateEvent)")
        let (_, offEvent) = click(link, at: fixedMillis, early: 0)
        #expect(!offEvent.contains("traffic"), "\(offEvent)")
        let (_, olderEvent) = click(Self.signed(Self.base + "&url=" + Self.encodedTarget), at: fixedMillis)
        #expect(!olderEvent.contains("traffic"), "\(olderEvent)")
        let signature = try #require(link.split(separator: "&").last)
        let forged = Self.base + "&url=" + Self.encodedTarget + "&st=\(signedAt - 60)&" + signature
        #expect(click(forged, at: fixedMillis).0.response.status == 400)
    }

    @Test func aSignedLinkRedirectsAndRecordsOneClick() throws {
        let sink = InMemorySink()
        let outcome = Self.handle(Self.signed(Self.base + "&url=" + Self.encodedTarget), sink: sink)
        #expect(outcome.response.status == 302)
        #expect(outcome.response.header("Location") == Self.target)
        #expect(outcome.response.header("Cache-Control")?.contains("no-store") == true)
        #expect(outcome.response.body.isEmpty)
        #expect(sink.events.count == 1 && sink.rejected.isEmpty)
        let event = try #require(sink.events.first).eventText
        #expect(event.contains(#""type":"track""#) && event.contains(#""event":"Link Clicked""#), "\(event)")
        #expect(event.contains(#""properties":{"campaign":"dec","url":"https://shop.example/p/42?utm_source=mail&a=1&b=%2F#reviews"}"#), "\(event)")
        // The target is no top-level field of the event: it appears once, in properties.
        #expect(event.split(separator: "shop.example", omittingEmptySubsequences: false).count == 2, "\(event)")
        let cgi = String(decoding: outcome.response.cgiBytes(), as: UTF8.self)
        #expect(cgi.hasPrefix("Status: 302 Found\r\n") && cgi.contains("Location: \(Self.target)\r\n"))
    }

    @Test func theLinkMayNameItsEvent() throws {
        let sink = InMemorySink()
        _ = Self.handle(Self.signed(Self.base + "&event=CTA%20Pressed&url=" + Self.encodedTarget), sink: sink)
        #expect(sink.events.first?.eventText.contains(#""event":"CTA Pressed""#) == true)
    }

    @Test func expiringLinksWorkUntilTheyExpire() {
        let sink = InMemorySink()
        let query = Self.signed(Self.base + "&url=" + Self.encodedTarget + "&exp=\(fixedMillis / 1000 + 60)")
        #expect(Self.handle(query, sink: sink).response.status == 302)
        let late = Self.handle(query, now: fixedMillis + 61_000, sink: sink)
        #expect(late.response.status == 400 && String(decoding: late.response.body, as: UTF8.self) == "signature expired")
        #expect(sink.events.count == 1)
    }

    @Test(arguments: [
        ("unsigned", Self.base + "&url=" + Self.encodedTarget, "invalid signature"),
        ("tampered target", Self.signed(Self.base + "&url=" + Self.encodedTarget).replacingFirst("shop.example", "evil.example"), "invalid signature"),
        ("tampered id", Self.signed(Self.base + "&url=" + Self.encodedTarget).replacingFirst("reader-9", "reader-8"), "invalid signature"),
        ("signed for track", Self.signed(Self.base + "&event=x&url=" + Self.encodedTarget, route: "track"), "invalid signature"),
        ("no target", Self.signed(Self.base), "missing required parameter: url"),
        ("javascript", Self.signed(Self.base + "&url=javascript%3Aalert(1)"), "invalid parameter 'url': must be an absolute http or https URL of at most 2000 bytes, percent-encoded"),
        ("header injection", Self.signed(Self.base + "&url=https%3A%2F%2Fa.example%2F%0D%0ASet-Cookie%3A%20x%3D1"), "invalid parameter 'url': must be an absolute http or https URL of at most 2000 bytes, percent-encoded"),
        ("no host", Self.signed(Self.base + "&url=https%3A%2F%2F%2Fevil.example"), "invalid parameter 'url': must be an absolute http or https URL of at most 2000 bytes, percent-encoded"),
        ("relative", Self.signed(Self.base + "&url=%2F%2Fevil.example"), "invalid parameter 'url': must be an absolute http or https URL of at most 2000 bytes, percent-encoded"),
        ("too long for a Location header", Self.signed(Self.base + "&url=https%3A%2F%2Fa.example%2F" + String(repeating: "a", count: 1983)), "invalid parameter 'url': must be an absolute http or https URL of at most 2000 bytes, percent-encoded"),
        ("too long once encoded", Self.signed(Self.base + "&url=https%3A%2F%2Fa.example%2F" + String(repeating: "%C3%A9", count: 400)), "invalid parameter 'url': must be an absolute http or https URL of at most 2000 bytes, percent-encoded"),
        ("no anonymousId", Self.signed("writeKey=wk&url=" + Self.encodedTarget), "missing required parameter: anonymousId"),
    ])
    func badLinksAnswer400AndRecordNothing(_ label: String, _ query: String, _ message: String) {
        let sink = InMemorySink()
        let outcome = Self.handle(query, sink: sink)
        #expect(outcome.response.status == 400, "\(label)")
        #expect(outcome.response.header("Location") == nil)
        // Not the GIF even with gif-always: a click is no image.
        #expect(String(decoding: outcome.response.body, as: UTF8.self) == message, "\(label)")
        #expect(sink.events.isEmpty && sink.rejected.isEmpty && sink.dropped.isEmpty, "\(label)")
        #expect(outcome.logLevel == .warn && outcome.logMessage?.contains("refused click hit") == true)
    }

    /// A write key without a secret has no signed links: clicks for it are
    /// refused, so pixelgate is never an open redirect.
    @Test func aKeyWithoutASecretCannotRedirect() {
        let sink = InMemorySink()
        for keys in [[:], ["other": Self.secret]] {
            let outcome = Self.handle(Self.base + "&url=" + Self.encodedTarget, keys: keys, sink: sink)
            #expect(outcome.response.status == 400 && String(decoding: outcome.response.body, as: UTF8.self) == "click links must be signed")
        }
        #expect(sink.events.isEmpty && sink.rejected.isEmpty)
    }

    @Test func headIsAnsweredLikeGetAndRecordsNothing() {
        let sink = InMemorySink()
        let outcome = Self.handle(Self.signed(Self.base + "&url=" + Self.encodedTarget), method: "HEAD", sink: sink)
        #expect(outcome.response.status == 302 && outcome.response.header("Location") == Self.target && !outcome.response.sendsBody)
        #expect(sink.events.isEmpty)
    }

    /// The click matters more than the count: a spool that fails still
    /// redirects, and the log says the event was not stored.
    @Test func aFailingSpoolStillRedirects() {
        let sink = InMemorySink()
        sink.failure = SinkError("disk full")
        let outcome = Self.handle(Self.signed(Self.base + "&url=" + Self.encodedTarget), sink: sink)
        #expect(outcome.response.status == 302 && outcome.response.header("Location") == Self.target)
        #expect(outcome.logLevel == .error && outcome.logMessage?.contains("event not stored: disk full") == true)
        sink.failure = SinkError("spool not ours", isMisconfiguration: true)
        #expect(Self.handle(Self.signed(Self.base + "&url=" + Self.encodedTarget), sink: sink).response.status == 302)
    }

    @Test func aClickByABotIsMarkedOrDropped() throws {
        var config = PixelConfiguration()
        config.signingKeys = ["wk": Self.secret]
        config.hitClasses = try HitClassPolicy.parse("bot=drop")
        let sink = InMemorySink()
        let request = PixelRequest(requestURI: "/pixel/v1/click?" + Self.signed(Self.base + "&url=" + Self.encodedTarget),
                                   remoteAddr: "66.249.66.1", userAgent: "Barracuda Sentinel (EE)")
        let outcome = PixelHandler(configuration: config).handle(request, sink: sink, nowMillis: fixedMillis, newMessageId: { fixedMessageId })
        #expect(outcome.response.status == 302 && sink.events.isEmpty && sink.dropped == [.bot])
        // Marked (the default): stored, with the scanner named.
        config.hitClasses = .default
        let marked = PixelHandler(configuration: config).handle(request, sink: sink, nowMillis: fixedMillis, newMessageId: { fixedMessageId })
        #expect(marked.response.status == 302 && sink.events.count == 1)
        #expect(sink.events.first?.eventText.contains(#""traffic":{"class":"bot","rule":"mail-link-scanner"}"#) == true)
    }

    @Test(arguments: [
        ("https://a.example/x?y=1#z", "https://a.example/x?y=1#z"),
        ("HTTP://A.example", "HTTP://A.example"),
        ("https://a.example/caf\u{e9}", "https://a.example/caf%C3%A9"),
        ("https://a.example/%20?q=%26", "https://a.example/%20?q=%26"),
    ])
    func targetsPassByteForByte(_ target: String, _ location: String) {
        #expect(ClickTarget.check(target) == location)
    }

    @Test func theLongestTargetStillFits() {
        let longest = "https://a.example/" + String(repeating: "a", count: ClickTarget.maxBytes - 18)
        #expect(ClickTarget.check(longest) == longest)
        #expect(ClickTarget.check(longest + "a") == nil)
        // Measured as the header carries it: é is six bytes there.
        let wide = "https://a.example/" + String(repeating: "\u{e9}", count: (ClickTarget.maxBytes - 18) / 6)
        #expect(ClickTarget.check(wide)?.utf8.count == 18 + 6 * ((ClickTarget.maxBytes - 18) / 6))
        #expect(ClickTarget.check(wide + "\u{e9}") == nil)
    }

    @Test(arguments: ["ftp://a.example", "https://", "https:a.example", "https://a.example/ x", "https://a.example/\t", "data:text/html,x", "https:/\\evil.example", "https://\\evil.example", "https://?x", "https://#x"])
    func targetsThatAreNotLinksAreRefused(_ target: String) {
        #expect(ClickTarget.check(target) == nil)
    }
}

extension String {
    var leftPad: String { count == 1 ? "0" + self : self }

    func replacingFirst(_ old: String, _ new: String) -> String {
        guard let range = firstRange(of: old) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: new)
        return copy
    }
}
