import Testing
@testable import PixelCore

/// What RudderStack trusts downstream: `context.ip` (which it prefers to
/// `request_ip` for geolocation, destinations and the warehouse) is the
/// address pixelgate determined unless the URL is signed; a bot carries
/// RudderStack's own bot fields; a visitor who asked not to be tracked
/// leaves no address in the log (issue 24).
@Suite("Stored addresses and bot fields")
struct StoredAddressTests {
    static let secret = "address-secret-0123456789"
    static let googlebot = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/84.0.4147.108 Safari/537.36"
    static let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"

    static func handle(_ query: String, _ config: PixelConfiguration, agent: String = chrome, dnt: String? = nil,
                       sink: InMemorySink) -> HandlerOutcome {
        let request = PixelRequest(requestURI: "/pixel/v1/page?" + query, remoteAddr: "203.0.113.9", userAgent: agent, doNotTrack: dnt)
        return PixelHandler(configuration: config).handle(request, sink: sink, nowMillis: fixedMillis, newMessageId: { fixedMessageId })
    }

    static func signed(_ query: String) -> String {
        query + "&sig=" + PixelSignature.signature(route: "page", of: Array(query.utf8), secret: secret)
    }

    static func event(_ sink: InMemorySink) throws -> String {
        try #require(sink.events.last).eventText
    }

    @Test(arguments: ["context.ip=8.8.8.8", "context.ip=8.8.8.8&context.ip=1.1.1.1", "context.ip.v4=8.8.8.8", "context.ip="])
    func anUnsignedQueryCannotChooseTheAddress(_ pair: String) throws {
        let sink = InMemorySink()
        var config = PixelConfiguration()
        config.logLevel = .debug
        let outcome = Self.handle("writeKey=wk&anonymousId=a&" + pair, config, sink: sink)
        #expect(outcome.response.status == 200)
        let event = try Self.event(sink)
        #expect(event.contains(#""ip":"203.0.113.9""#) && event.contains(#""request_ip":"203.0.113.9""#), "\(event)")
        #expect(!event.contains("8.8.8.8") && !event.contains("1.1.1.1") && !event.contains("v4"), "\(event)")
        #expect(outcome.logMessage?.contains("context.ip from the query not stored") == true, "\(outcome.logMessage ?? "")")
    }

    @Test func aSignedURLKeepsItsOwnAddress() throws {
        let sink = InMemorySink()
        var config = PixelConfiguration()
        config.signingKeys = ["wk": Self.secret]
        let outcome = Self.handle(Self.signed("writeKey=wk&anonymousId=a&context.ip=8.8.8.8"), config, sink: sink)
        #expect(outcome.response.status == 200)
        var event = try Self.event(sink)
        #expect(event.contains(#""ip":"8.8.8.8""#) && event.contains(#""request_ip":"203.0.113.9""#), "\(event)")
        // Shortened like the server's own when addresses are.
        config.anonymizeIP = true
        _ = Self.handle(Self.signed("writeKey=wk&anonymousId=a&context.ip=8.8.8.8"), config, sink: sink)
        event = try Self.event(sink)
        #expect(event.contains(#""ip":"8.8.8.0""#) && event.contains(#""request_ip":"203.0.113.0""#), "\(event)")
    }

    /// A `sig` proves nothing for a key without a secret: its address is
    /// still the server's. A tampered one is refused outright.
    @Test func onlyACheckedSignatureCounts() throws {
        let sink = InMemorySink()
        var config = PixelConfiguration()
        config.signingKeys = ["other": Self.secret]
        _ = Self.handle(Self.signed("writeKey=wk&anonymousId=a&context.ip=8.8.8.8"), config, sink: sink)
        #expect(try Self.event(sink).contains(#""ip":"203.0.113.9""#))
        config.signingKeys = ["wk": Self.secret]
        let tampered = Self.signed("writeKey=wk&anonymousId=a&context.ip=8.8.8.8").replacingOccurrences("8.8.8.8", "9.9.9.9")
        #expect(Self.handle(tampered, config, sink: sink).response.status == 400)
        #expect(sink.events.count == 1)
    }

    @Test func aBotCarriesRudderStacksBotFields() throws {
        let sink = InMemorySink()
        _ = Self.handle("writeKey=wk&anonymousId=a", PixelConfiguration(), agent: Self.googlebot, sink: sink)
        let event = try Self.event(sink)
        #expect(event.contains(#""traffic":{"class":"bot","rule":"google-crawler"},"isBot":true,"#
            + #""bot":{"name":"google-crawler","url":"https://developers.google.com/search/docs/crawling-indexing/overview-google-crawlers"}"#),
            "\(event)")
    }

    @Test func peopleAndMachinesThatAreNoBotsCarryNone() throws {
        let sink = InMemorySink()
        let page = "writeKey=wk&anonymousId=a&context.isBot=true&context.bot.name=fake"
        _ = Self.handle(page, PixelConfiguration(), sink: sink)
        var event = try Self.event(sink)
        #expect(!event.contains("isBot") && !event.contains(#""bot""#) && !event.contains("fake"), "a query cannot mark itself: \(event)")
        _ = Self.handle(page, PixelConfiguration(), agent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", sink: sink)
        event = try Self.event(sink)
        #expect(event.contains(#""class":"mail-proxy""#) && !event.contains("isBot") && !event.contains(#""bot""#), "\(event)")
        // A bot the operator records unmarked is stored as any hit.
        var config = PixelConfiguration()
        config.hitClasses = try HitClassPolicy.parse("bot=record")
        _ = Self.handle(page, config, agent: Self.googlebot, sink: sink)
        event = try Self.event(sink)
        #expect(!event.contains("isBot") && !event.contains(#""bot""#) && !event.contains("traffic"), "\(event)")
    }

    @Test func aVisitorWhoAskedNotToBeTrackedLeavesNoAddressInTheLog() {
        for consent in [ConsentAction.drop, .anonymize] {
            let sink = InMemorySink()
            var config = PixelConfiguration()
            config.consent = consent
            config.logLevel = .debug
            let refused = Self.handle("writeKey=wk", config, dnt: "1", sink: sink)
            #expect(refused.response.status == 400)
            #expect(refused.logMessage?.contains("ip=-") == true, "\(consent): \(refused.logMessage ?? "")")
            #expect(refused.logMessage?.contains("203.0.113") == false)
            let accepted = Self.handle("writeKey=wk&anonymousId=a", config, dnt: "1", sink: sink)
            #expect(accepted.logMessage?.contains("203.0.113") != true, "\(consent): \(accepted.logMessage ?? "")")
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(_ old: String, _ new: String) -> String {
        split(separator: old, omittingEmptySubsequences: false).joined(separator: new)
    }
}
