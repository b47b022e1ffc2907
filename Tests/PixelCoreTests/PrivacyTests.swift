import Testing
@testable import PixelCore

/// Consent (`DNT`, `Sec-GPC`), shortened addresses and secret-looking
/// parameters: what reaches the spool, `rejected/` and the log.
@Suite("Consent and privacy")
struct PrivacyTests {
    static let agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"

    static func handle(_ query: String, _ config: PixelConfiguration = PixelConfiguration(), remoteAddr: String = "203.0.113.77",
                       dnt: String? = nil, gpc: String? = nil, sink: InMemorySink) -> HandlerOutcome {
        let request = PixelRequest(requestURI: "/pixel/v1/page?" + query, remoteAddr: remoteAddr, userAgent: agent,
                                   doNotTrack: dnt, globalPrivacyControl: gpc)
        return PixelHandler(configuration: config).handle(request, sink: sink, nowMillis: fixedMillis, newMessageId: { fixedMessageId })
    }

    static func config(_ environment: [String: String]) -> PixelConfiguration {
        let (config, problems) = PixelConfiguration.resolve(environment: SettingValues(names: Array(environment.keys), values: Array(environment.values)))
        #expect(problems.isEmpty, "\(problems)")
        return config
    }

    static let query = "writeKey=wk&anonymousId=v1&context.ip=198.51.100.23&context.userAgent=Agent%2F1"

    @Test(arguments: [("1", nil), (nil, "1"), (" 1 ", nil)] as [(String?, String?)])
    func anonymizeKeepsNoAddressOrAgent(_ dnt: String?, _ gpc: String?) throws {
        let sink = InMemorySink()
        let outcome = Self.handle(Self.query, Self.config(["PIXELGATE_CONSENT": "anonymize"]), dnt: dnt, gpc: gpc, sink: sink)
        #expect(outcome.response.status == 200)
        let line = String(decoding: try #require(sink.lines.first), as: UTF8.self)
        #expect(!line.contains("203.0.113") && !line.contains("198.51.100") && !line.contains("Chrome") && !line.contains("Agent/1"), "\(line)")
        #expect(line.contains(#""request_ip":"""#) && !line.contains(#""userAgent""#) && !line.contains(#""ip""#))
    }

    @Test func withoutTheHeadersOrWithRecordNothingChanges() throws {
        for (env, dnt) in [(["PIXELGATE_CONSENT": "anonymize"], "0"), (["PIXELGATE_CONSENT": "record"], "1")] {
            let sink = InMemorySink()
            _ = Self.handle("writeKey=wk&anonymousId=v1", Self.config(env), dnt: dnt, sink: sink)
            let line = String(decoding: try #require(sink.lines.first), as: UTF8.self)
            #expect(line.contains(#""ip":"203.0.113.77""#) && line.contains(#""request_ip":"203.0.113.77""#) && line.contains("Chrome/143"))
        }
    }

    @Test func dropAnswersAndCountsButStoresNothing() {
        let sink = InMemorySink()
        let config = Self.config(["PIXELGATE_CONSENT": "drop", "PIXELGATE_RESPONSE": "gif"])
        let outcome = Self.handle(Self.query, config, gpc: "1", sink: sink)
        #expect(outcome.response.status == 200 && outcome.response.body == PixelResponse.transparentGIF)
        #expect(sink.events.isEmpty && sink.dropped == [.consent])
        // A refused hit is still refused (consent hides no error), and
        // nothing of it is kept either.
        let refused = Self.handle("writeKey=wk", config, gpc: "1", sink: sink)
        #expect(refused.response.status == 400 && sink.rejected.isEmpty && sink.dropped == [.consent])
    }

    @Test(arguments: [
        ("203.0.113.77", "203.0.113.0"), ("10.1.2.3", "10.1.2.0"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::"), ("2001:db8::1", "2001:db8::"), ("::1", "::"),
        ("2a00:1450:4001:81c::200e", "2a00:1450:4001::"), ("::ffff:192.0.2.9", "::ffff:192.0.2.0"), ("::FFFF:c000:0209", "::ffff:192.0.2.0"),
        // Addresses that carry an IPv4 address inside keep that one's /24
        // only: 6to4 (203.0.113.77 in bits 16–47, which a /48 would keep
        // whole), NAT64's well-known prefix, IPv4-compatible, and Teredo
        // (the client's address inverted in the last 32 bits: 192.0.2.45).
        ("2002:cb00:714d::1", "2002:cb00:7100::"), ("2002:cb00:714d:1:2:3:4:5", "2002:cb00:7100::"),
        ("64:ff9b::198.51.100.23", "64:ff9b::198.51.100.0"), ("64:ff9b::c633:6417", "64:ff9b::198.51.100.0"),
        ("::198.51.100.23", "::198.51.100.0"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:4136:e378::3fff:fdff"),
    ])
    func addressesAreShortened(_ address: String, _ shortened: String) {
        #expect(AddressAnonymizer.anonymized(address) == shortened)
    }

    @Test func notAnAddressIsNotKept() {
        #expect(AddressAnonymizer.anonymized("unknown") == nil)
        #expect(AddressAnonymizer.anonymized("") == nil)
    }

    @Test func shortenedAddressesEverywhereTheyAreKept() throws {
        let config = Self.config(["PIXELGATE_ANONYMIZE_IP": "on"])
        let sink = InMemorySink()
        _ = Self.handle(Self.query, config, sink: sink)
        _ = Self.handle("writeKey=wk&anonymousId=v2", config, remoteAddr: "2001:db8:aa:bb:cc:dd:ee:ff", sink: sink)
        _ = Self.handle("writeKey=wk&anonymousId=v3&context.ip=not-an-address", config, sink: sink)
        let lines = sink.lines.map { String(decoding: $0, as: UTF8.self) }
        try #require(lines.count == 3)
        // An unsigned query's own context.ip is never stored: the server's address is.
        #expect(lines[0].contains(#""ip":"203.0.113.0""#) && lines[0].contains(#""request_ip":"203.0.113.0""#), "\(lines[0])")
        #expect(lines[1].contains(#""ip":"2001:db8:aa::""#) && lines[1].contains(#""request_ip":"2001:db8:aa::""#), "\(lines[1])")
        #expect(lines[2].contains(#""ip":"203.0.113.0""#) && !lines[2].contains("not-an-address"), "\(lines[2])")
        #expect(!lines.joined().contains("203.0.113.77") && !lines.joined().contains("198.51.100.23"))
        // A refused hit: its record and the log line carry the short form too.
        let refused = Self.handle("anonymousId=v4", config, sink: sink)
        #expect(sink.rejected.last?.clientIP == "203.0.113.0")
        #expect(refused.logMessage?.contains("ip=203.0.113.0") == true && refused.logMessage?.contains("203.0.113.77") == false)
    }

    /// A refused hit is kept in rejected/ under the same rules as an event:
    /// no secret, no address or agent the visitor asked to keep back, and
    /// no record at all for a kind of hit that is dropped.
    @Test func refusedHitsKeepNoMoreThanEventsWould() throws {
        let refusedQuery = "anonymousId=v1&context.ip=198.51.100.23&context.userAgent=Secret%20UA&properties.pass%77ord=hunter2&properties.plan=pro"
        let sink = InMemorySink()
        let anonymize = Self.config(["PIXELGATE_CONSENT": "anonymize"])
        let outcome = Self.handle(refusedQuery, anonymize, dnt: "1", sink: sink)
        #expect(outcome.response.status == 400)
        let hit = try #require(sink.rejected.last)
        let kept = String(decoding: hit.query, as: UTF8.self)
        #expect(kept == "anonymousId=v1&properties.plan=pro", "\(kept)")
        #expect(hit.clientIP == "" && outcome.logMessage?.contains("(ip=-)") == true && outcome.logMessage?.contains("203.0.113") == false)

        _ = Self.handle(refusedQuery + "&context.ip.0=198.51.100.24", Self.config(["PIXELGATE_ANONYMIZE_IP": "on"]), sink: sink)
        #expect(String(decoding: try #require(sink.rejected.last).query, as: UTF8.self)
            == "anonymousId=v1&context.ip=198.51.100.0&context.userAgent=Secret%20UA&properties.plan=pro")
        _ = Self.handle(refusedQuery + "&context.userAgent.x=UA2&context.ip.0=198.51.100.24", anonymize, gpc: "1", sink: sink)
        #expect(String(decoding: try #require(sink.rejected.last).query, as: UTF8.self) == "anonymousId=v1&properties.plan=pro")

        for env in [["PIXELGATE_CONSENT": "drop"], ["PIXELGATE_HIT_CLASSES": "human=drop"]] {
            let before = sink.rejected.count
            let dropped = Self.handle(refusedQuery, Self.config(env), dnt: "1", sink: sink)
            #expect(dropped.response.status == 400 && sink.rejected.count == before, "\(env)")
        }
        #expect(sink.events.isEmpty && sink.dropped.isEmpty)
    }

    @Test func secretLookingParametersAreRemovedAndLogged() throws {
        let sink = InMemorySink()
        let query = "writeKey=wk&anonymousId=v1&properties.plan=pro&properties.password=hunter2&properties.newPassword=x1"
            + "&properties.access_token=t0k&properties.X-API-Key=k3y&context.Authorization=Bearer%20abc&properties.client_secret=s3"
        let outcome = Self.handle(query, sink: sink)
        #expect(outcome.response.status == 200)
        let line = String(decoding: try #require(sink.lines.first), as: UTF8.self)
        for secret in ["hunter2", "x1\"", "t0k", "k3y", "Bearer", "s3\""] { #expect(!line.contains(secret), "\(secret) in \(line)") }
        #expect(line.contains(#""properties":{"plan":"pro"}"#), "\(line)")
        let log = try #require(outcome.logMessage)
        #expect(outcome.logLevel == .info)
        #expect(log.contains("removed 6 parameters") && log.contains("'properties.password'") && log.contains("'context.Authorization'"))
        #expect(!log.contains("hunter2"))

        // Under a field the hit needs, a secret is a secret.
        let nested = Self.handle("writeKey=wk&anonymousId=v1&event.token=abc", sink: sink)
        #expect(nested.logMessage?.contains("'event.token'") == true)
        #expect(sink.lines.last.map { String(decoding: $0, as: UTF8.self).contains("abc") } == false)

        // Repeated names count each time; dotted spellings are caught too.
        let repeated = Self.handle("writeKey=wk&anonymousId=v1&properties.token=a&properties.token=b&properties.api.key=c", sink: sink)
        #expect(repeated.logMessage?.hasPrefix("removed 3 parameters") == true, "\(repeated.logMessage ?? "")")
        #expect(sink.lines.last.map { String(decoding: $0, as: UTF8.self).contains(#""properties""#) } == false)
    }

    @Test func theSecretListIsASetting() throws {
        let sink = InMemorySink()
        let query = "writeKey=wk&anonymousId=v1&properties.password=p&properties.pin=1234"
        _ = Self.handle(query, Self.config(["PIXELGATE_SECRET_PARAMETERS": "none"]), sink: sink)
        _ = Self.handle(query, Self.config(["PIXELGATE_SECRET_PARAMETERS": "pin"]), sink: sink)
        let lines = sink.lines.map { String(decoding: $0, as: UTF8.self) }
        #expect(lines[0].contains(#""password":"p""#) && lines[0].contains(#""pin":"1234""#))
        #expect(lines[1].contains(#""password":"p""#) && !lines[1].contains("1234"))
        // The identity a hit needs is never taken, whatever the list says.
        _ = Self.handle("writeKey=wk&anonymousId=v1", Self.config(["PIXELGATE_SECRET_PARAMETERS": "anonymous,key"]), sink: sink)
        #expect(sink.events.count == 3 && sink.events[2].writeKey == "wk")
    }

    @Test(arguments: [
        ("properties.password", true), ("properties.PassWord", true), ("properties.api-key", true), ("properties.apikey", true),
        ("properties.API_KEY", true), ("context.page.url", false), ("properties.pass", false), ("properties.tok", false),
        ("properties.secretary", true), ("properties.pass.word", true), ("properties.api.key", true),
        ("properties.api\\.key", true), ("", false),
        // The words added from sentry-python's and Rails' default lists.
        ("properties.passwd", true), ("properties.pwd", true), ("properties.access_key", true), ("properties.AccessKey", true),
        ("properties.private_key", true), ("properties.sessionid", true), ("properties.JSESSIONID", true),
        ("properties.PHPSESSID", true), ("properties.credentials", true), ("properties.aws_credential", true),
        ("properties.passphrase", true), ("properties._csrf", true), ("properties.card_number", true), ("properties.cvv", true),
        // …and the ordinary names they must leave alone.
        ("properties.author", false), ("properties.session_count", false), ("properties.cookie_consent", false),
        ("properties.footprint", false), ("properties.classname", false),
    ])
    func namesMatchIgnoringCaseAndSeparators(_ name: String, _ matches: Bool) {
        var name = name
        #expect(name.withUTF8 { SecretNames.default.matches($0) } == matches)
    }

    /// The matcher against its definition, on names made at random from
    /// pieces of the listed words (either case), separators and other
    /// letters: a name matches when, folded and without separators, it
    /// contains a word.
    @Test func secretNamesMatchAsDefined() {
        var random = SystemRandomNumberGenerator()
        let separators = Array("_-.\\".utf8), others = Array("xqzE".utf8)
        let lists = [SecretNames.defaultList, ["pass", "word", "sword"], ["aaa", "aab"], ["cvv", "v.v_v", "Token"]]
        var matched = 0, tried = 0
        for list in lists {
            let names = SecretNames(list)
            let words = list.map { SecretNames.folded($0.utf8) }
            for _ in 0..<1500 {
                var name: [UInt8] = []
                for _ in 0..<Int.random(in: 0...4, using: &random) {
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0: name.append(separators.randomElement(using: &random)!)
                    case 1: name.append(others.randomElement(using: &random)!)
                    default:
                        let word = Array(list.randomElement(using: &random)!.utf8)
                        let from = Int.random(in: 0..<word.count, using: &random)
                        let to = Bool.random(using: &random) ? word.count : Int.random(in: from...word.count, using: &random)
                        for b in word[from..<to] {
                            if Int.random(in: 0..<5, using: &random) == 0 { name.append(separators.randomElement(using: &random)!) }
                            name.append(Bool.random(using: &random) && b >= 0x61 && b <= 0x7A ? b - 0x20 : b)
                        }
                    }
                }
                let plain = SecretNames.folded(name)
                let expected = words.contains { word in
                    plain.count >= word.count && (0...(plain.count - word.count)).contains { Array(plain[$0..<$0 + word.count]) == word }
                }
                if name.withUnsafeBufferPointer({ names.matches($0) }) != expected {
                    Issue.record("\(String(decoding: name, as: UTF8.self)) against \(list): expected \(expected)")
                }
                if expected { matched += 1 }
                tried += 1
            }
        }
        #expect(matched > 500 && tried - matched > 500, "\(matched) of \(tried) names matched")
    }

    @Test func theSecretListNeverFailsOpen() {
        let (empty, _) = PixelConfiguration.resolve(environment: ["PIXELGATE_SECRET_PARAMETERS": " "])
        #expect(empty.secretNames == .default)
        let (_, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_SECRET_PARAMETERS": "password,id"])
        #expect(problems.contains { $0.setting == "PIXELGATE_SECRET_PARAMETERS" && $0.isFatal && $0.message.contains("'id'") })
    }

    @Test func privacySettingsAreRead() {
        for (name, value) in [("PIXELGATE_CONSENT", "forget"), ("PIXELGATE_ANONYMIZE_IP", "maybe")] {
            let (_, problems) = PixelConfiguration.resolve(environment: [name: value])
            #expect(problems.contains { $0.setting == name && $0.isFatal }, "\(name)=\(value)")
        }
        let (config, _) = PixelConfiguration.resolve(environment: ["PIXELGATE_CONSENT": " Anonymize", "PIXELGATE_ANONYMIZE_IP": "yes"])
        #expect(config.consent == .anonymize && config.anonymizeIP)
    }
}
