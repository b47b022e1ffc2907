import Testing
@testable import PixelCore

/// `PIXELGATE_DERIVE_ANONYMOUS_ID=daily` (SPEC §8): a hit without an
/// `anonymousId` gets one that is the same all day for one visitor on one
/// site, and another on another day or site; off, such a hit is refused.
@Suite("Anonymous ids for hits without one")
struct DerivedAnonymousIdTests {
    static let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    static let day: Int64 = 86_400_000

    /// The stored event's `anonymousId`, or the answer's status when none was stored.
    static func hit(_ query: String, derive: Bool = true, at millis: Int64 = fixedMillis, address: String = "203.0.113.7",
                    agent: String? = chrome, route: String = "page", method: String = "GET", doNotTrack: Bool = false,
                    configure: (inout PixelConfiguration) -> Void = { _ in },
                    sink: InMemorySink = InMemorySink()) throws -> (status: Int, id: String?) {
        var config = PixelConfiguration()
        config.deriveAnonymousId = derive ? .daily : .off
        configure(&config)
        var request = PixelRequest(method: method, requestURI: "/pixel/v1/\(route)?" + query, remoteAddr: address, userAgent: agent)
        if doNotTrack { request.doNotTrack = "1" }
        let before = sink.events.count
        let outcome = PixelHandler(configuration: config).handle(request, sink: sink, nowMillis: millis, newMessageId: { fixedMessageId })
        guard sink.events.count > before, let event = sink.events.last else { return (outcome.response.status, nil) }
        let text = event.eventText
        guard let start = text.firstOccurrence(of: #""anonymousId":""#)?.upperBound else { return (outcome.response.status, nil) }
        return (outcome.response.status, String(text[start...].prefix { $0 != "\"" }))
    }

    @Test func offByDefaultAMissingIdIsRefused() throws {
        #expect(PixelConfiguration().deriveAnonymousId == .off)
        #expect(try Self.hit("writeKey=wk&name=Home", derive: false).status == 400)
    }

    @Test func aMissingOrBlankIdIsDerivedAndAGivenOneKept() throws {
        let derived = try Self.hit("writeKey=wk&name=Home")
        #expect(derived.status == 200)
        let id = try #require(derived.id)
        // 36 characters, 8-4-4-4-12 lowercase hex, as an SDK's anonymousId.
        let groups = id.split(separator: "-").map(\.count)
        #expect(groups == [8, 4, 4, 4, 12] && id.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase }, "\(id)")
        #expect(try Self.hit("writeKey=wk&anonymousId=%20%E2%80%8B").id == id, "a blank id is a missing one")
        #expect(try Self.hit("writeKey=wk&anonymousId=visitor-7").id == "visitor-7")
        // The address and agent are inputs only: nothing of them is in the id.
        #expect(!id.contains("203") && id != DerivedAnonymousId.make(secret: [], writeKey: "wk", clientAddress: "203.0.113.7", userAgent: Self.chrome))
    }

    /// Same visitor, same site, same day: one id. Any of them changed: another.
    @Test func sameAllDayAndSeparateByDaySiteAddressAndAgent() throws {
        let base = try #require(try Self.hit("writeKey=wk").id)
        #expect(try Self.hit("writeKey=wk&name=Other", at: fixedMillis + 3_600_000).id == base, "an hour later, the same day")
        let nextDay = try #require(try Self.hit("writeKey=wk", at: fixedMillis + Self.day).id)
        let otherSite = try #require(try Self.hit("writeKey=wk2").id)
        let otherAddress = try #require(try Self.hit("writeKey=wk", address: "203.0.113.8").id)
        let otherAgent = try #require(try Self.hit("writeKey=wk", agent: Self.chrome + " Edg/131.0.0.0").id)
        let noAgent = try #require(try Self.hit("writeKey=wk", agent: nil).id)
        let all = [base, nextDay, otherSite, otherAddress, otherAgent, noAgent]
        #expect(Set(all).count == all.count, "\(all)")
    }

    /// The day is UTC's: the id changes at midnight, not 24 hours after a visit.
    @Test func theDayTurnsAtMidnightUTC() throws {
        let midnight = (fixedMillis / Self.day + 1) * Self.day
        let before = try #require(try Self.hit("writeKey=wk", at: midnight - 1).id)
        let after = try #require(try Self.hit("writeKey=wk", at: midnight).id)
        #expect(before != after)
        #expect(DerivedAnonymousId.day(ofMillis: midnight - 1) + 1 == DerivedAnonymousId.day(ofMillis: midnight))
        #expect(DerivedAnonymousId.day(ofMillis: -1) == -1)
    }

    /// A spool that cannot give the day's secret: the hit is a good one the
    /// server could not store (503), never the visitor's fault (400); a
    /// click still redirects; a hit refused for its own fault keeps its 400.
    @Test func noSecretIsA503() throws {
        let sink = InMemorySink()
        sink.failure = SinkError("disk full")
        #expect(try Self.hit("writeKey=wk", sink: sink).status == 503)
        #expect(sink.counted == [.unstored(.unavailable)])
        sink.failure = SinkError("unsafe spool", isMisconfiguration: true)
        #expect(try Self.hit("writeKey=wk", sink: sink).status == 500)
        #expect(try Self.hit("writeKey=wk", route: "track", sink: sink).status == 400, "a track without event is refused first")
        let secret = "click-secret-0123456789abcdef"
        let query = "writeKey=wk&url=https%3A%2F%2Fshop.example%2F"
        let signed = query + "&sig=" + PixelSignature.signature(route: "click", of: Array(query.utf8), secret: secret)
        #expect(try Self.hit(signed, route: "click", configure: { $0.signingKeys = ["wk": secret] }, sink: sink).status == 302)
    }

    /// Only a hit that is stored asks for the secret: not HEAD, not a hit
    /// of a kind that is dropped.
    @Test func onlyStoredHitsAskForTheSecret() throws {
        let sink = InMemorySink()
        #expect(try Self.hit("writeKey=wk", method: "HEAD", sink: sink).status == 200)
        #expect(try Self.hit("writeKey=wk", agent: "curl/8.5.0", configure: { $0.hitClasses = HitClassPolicy(human: .record, mailProxy: .mark, prefetch: .mark, bot: .drop) }, sink: sink).status == 200)
        #expect(sink.secretRequests == 0 && sink.events.isEmpty)
        #expect(try Self.hit("writeKey=wk", sink: sink).status == 200)
        #expect(sink.secretRequests == 1)
    }

    /// The address as pixelgate keeps it: under PIXELGATE_ANONYMIZE_IP two
    /// addresses that shorten alike give one id; a visitor asking not to be
    /// tracked (consent anonymize) gets an id of each hit alone.
    @Test func theAddressAsKeptAndVisitorsWhoOptOut() throws {
        let shortened: (inout PixelConfiguration) -> Void = { $0.anonymizeIP = true }
        #expect(try Self.hit("writeKey=wk", address: "203.0.113.7", configure: shortened).id
            == (try Self.hit("writeKey=wk", address: "203.0.113.99", configure: shortened).id))
        var ids: [String?] = []
        var n = 0
        for _ in 0..<2 {
            n += 1
            let sink = InMemorySink()
            var config = PixelConfiguration()
            config.deriveAnonymousId = .daily
            config.consent = .anonymize
            var request = PixelRequest(requestURI: "/pixel/v1/page?writeKey=wk", remoteAddr: "203.0.113.7", userAgent: Self.chrome)
            request.doNotTrack = "1"
            let counter = n
            _ = PixelHandler(configuration: config).handle(request, sink: sink, nowMillis: fixedMillis,
                                                           newMessageId: { "6f1c2a8e-3b4d-4e5f-9a0b-00000000000\(counter)" })
            #expect(sink.secretRequests == 0)
            ids.append(sink.events.first.flatMap { event in
                event.eventText.firstOccurrence(of: #""anonymousId":""#).map { String(event.eventText[$0.upperBound...].prefix { $0 != "\"" }) }
            })
        }
        #expect(ids[0] != nil && ids[0] != ids[1], "\(ids)")
    }
}
