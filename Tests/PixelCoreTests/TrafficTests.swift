import Testing
@testable import PixelCore

/// Hit classes (`TrafficRules`) against real header sets
/// (`TrafficFixtures`), and what is stored for each under the settings.
@Suite("Machine opens, prefetch and bots")
struct TrafficTests {
    static let query = "writeKey=wk&anonymousId=visitor-1&name=Welcome"

    /// The request a web server would pass for `fixture`, on the page route.
    static func request(_ fixture: TrafficFixture, method: String = "GET", query: String = TrafficTests.query) -> PixelRequest {
        var request = PixelRequest(method: method, requestURI: "/pixel/v1/page?" + query, remoteAddr: fixture.remoteAddr)
        for (name, value) in fixture.headers {
            switch name.lowercased() {
            case "user-agent": request.userAgent = value
            case "sec-purpose": request.secPurpose = value
            case "purpose": request.purpose = value
            case "x-moz": request.xMoz = value
            case "x-purpose": request.xPurpose = value
            case "dnt": request.doNotTrack = value
            case "sec-gpc": request.globalPrivacyControl = value
            default: break
            }
        }
        return request
    }

    static func handle(_ request: PixelRequest, _ config: PixelConfiguration = PixelConfiguration(), sink: InMemorySink) -> HandlerOutcome {
        PixelHandler(configuration: config).handle(request, sink: sink, nowMillis: fixedMillis, newMessageId: { fixedMessageId })
    }

    @Test(arguments: TrafficFixtures.all.map(\.name))
    func eachFixtureGetsItsClass(_ name: String) throws {
        let fixture = try #require(TrafficFixtures.all.first { $0.name == name })
        let verdict = TrafficClassifier.standard.classify(Self.request(fixture), address: fixture.remoteAddr)
        #expect(verdict.hitClass.rawValue == fixture.expected, "\(fixture.name) (\(fixture.source)) classed by \(verdict.ruleID.isEmpty ? "no rule" : verdict.ruleID)")
    }

    @Test func theFixturesCoverEveryClassAndNoBrowserIsAMachine() {
        let byClass = Dictionary(grouping: TrafficFixtures.all, by: \.expected)
        for hitClass in HitClass.allCases {
            #expect((byClass[hitClass.rawValue]?.count ?? 0) >= 5, "fixtures for \(hitClass.rawValue)")
        }
        let misread = (byClass["human"] ?? []).filter { TrafficClassifier.standard.classify(Self.request($0), address: $0.remoteAddr).hitClass != .human }
        #expect(misread.isEmpty, "browsers classed as machines: \(misread.map(\.name))")
        #expect(Set(TrafficFixtures.all.map(\.name)).count == TrafficFixtures.all.count)
        #expect(TrafficFixtures.all.allSatisfy { !$0.source.isEmpty })
    }

    /// The default: people as they are, machines marked with their class
    /// and the rule that named them; nothing is dropped.
    @Test(arguments: TrafficFixtures.all.map(\.name))
    func byDefaultMachinesAreMarkedAndPeopleRecorded(_ name: String) throws {
        let fixture = try #require(TrafficFixtures.all.first { $0.name == name })
        let sink = InMemorySink()
        let outcome = Self.handle(Self.request(fixture), sink: sink)
        #expect(outcome.response.status == 200)
        #expect(sink.events.count == 1 && sink.dropped.isEmpty)
        let event = try #require(sink.events.first).eventText
        let rule = TrafficClassifier.standard.classify(Self.request(fixture), address: fixture.remoteAddr).ruleID
        if fixture.expected == "human" {
            #expect(!event.contains(#""traffic""#), "\(event)")
        } else {
            #expect(!rule.isEmpty)
            #expect(event.contains(#""traffic":{"class":"\#(fixture.expected)","rule":"\#(rule)"}"#), "\(event)")
        }
    }

    /// `drop` answers as usual, stores nothing and counts the hit by class;
    /// `mark` on people adds their class without a rule.
    @Test func droppedClassesAreAnsweredAndCountedButNotStored() throws {
        var config = PixelConfiguration()
        config.hitClasses = try HitClassPolicy.parse("mail-proxy=drop, prefetch=drop,bot=drop,human=mark")
        config.response = .gif
        let sink = InMemorySink()
        var expectedDrops: [DroppedHit] = []
        var people = 0
        for fixture in TrafficFixtures.all {
            let outcome = Self.handle(Self.request(fixture), config, sink: sink)
            #expect(outcome.response.status == 200 && outcome.response.body == PixelResponse.transparentGIF, "\(fixture.name)")
            if fixture.expected == "human" { people += 1 } else { expectedDrops.append(DroppedHit(HitClass(rawValue: fixture.expected)!)) }
        }
        #expect(sink.events.count == people)
        #expect(sink.events.allSatisfy { $0.eventText.contains(#""traffic":{"class":"human""#) })
        #expect(sink.dropped == expectedDrops)
        // In = stored + dropped, exactly.
        #expect(sink.events.count + sink.dropped.count == TrafficFixtures.all.count)
    }

    @Test func headIsNeverRecordedOrCounted() throws {
        var config = PixelConfiguration()
        config.hitClasses = try HitClassPolicy.parse("bot=drop")
        let sink = InMemorySink()
        for fixture in TrafficFixtures.all {
            let outcome = Self.handle(Self.request(fixture, method: "HEAD"), config, sink: sink)
            #expect(outcome.response.status == 200 && !outcome.response.sendsBody)
        }
        #expect(sink.events.isEmpty && sink.dropped.isEmpty && sink.rejected.isEmpty)
    }

    /// A query cannot pass itself off as another class: `context.traffic`
    /// is the server's mark, or absent where the class is recorded as is.
    @Test func theMarkIsTheServers() throws {
        let sink = InMemorySink()
        var request = PixelRequest(requestURI: "/pixel/v1/page?" + Self.query + "&context.traffic.class=human&context.traffic.x=1",
                                   remoteAddr: "66.249.66.1", userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
        _ = Self.handle(request, sink: sink)
        #expect(sink.events.first?.eventText.contains(#""traffic":{"class":"bot","rule":"google-crawler"}"#) == true)
        // A person's browser, from a person's address (Googlebot's is in
        // Google's published ranges, which class any agent as a crawler).
        request.userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        request.remoteAddr = "192.0.2.44"
        _ = Self.handle(request, sink: sink)
        #expect(sink.events.count == 2)
        #expect(sink.events.last?.eventText.contains(#""traffic""#) == false, "\(sink.events.last?.eventText ?? "")")
    }

    @Test func rulesAreNamedOnceWithTheirSources() {
        let ids = TrafficRules.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(TrafficRules.all.allSatisfy { !$0.source.isEmpty && $0.id == $0.id.lowercased() && !$0.id.contains(" ") })
        // A table cell cannot hold a bare pipe.
        #expect(!TrafficRules.markdownTable.split(separator: "\n").dropFirst(2).contains { $0.filter { $0 == "|" }.count != 5 })
    }

    @Test(arguments: [
        ("prefetch", true), ("prefetch;prerender", true), ("Prefetch ; anonymous-client-ip", true), ("prerender", false),
        ("no-prefetch", false), ("preview, prefetch", true), ("", false),
    ])
    func purposeHeadersAreTokenLists(_ value: String, _ isPrefetch: Bool) {
        let request = PixelRequest(requestURI: "/pixel/v1/page?x", userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/143.0.0.0 Safari/537.36", secPurpose: value)
        #expect((TrafficClassifier.standard.classify(request, address: "192.0.2.1").hitClass == .prefetch) == isPrefetch)
    }

    @Test func classSettingsAreRead() throws {
        #expect(try HitClassPolicy.parse("") == .default)
        let policy = try HitClassPolicy.parse(" BOT = drop ,prefetch=record")
        #expect(policy[.bot] == .drop && policy[.prefetch] == .record && policy[.mailProxy] == .mark && policy[.human] == .record)
        #expect(throws: SettingProblem.self) { try HitClassPolicy.parse("robots=drop") }
        #expect(throws: SettingProblem.self) { try HitClassPolicy.parse("bot=ignore") }
        #expect(throws: SettingProblem.self) { try HitClassPolicy.parse("bot") }
        let (config, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_HIT_CLASSES": "bot=delete"])
        #expect(problems.contains { $0.setting == "PIXELGATE_HIT_CLASSES" && $0.isFatal && $0.message.contains("delete") })
        #expect(config.hitClasses == .default)
    }
}

extension TrafficTests {
    /// docs/traffic.md's rules table
    /// is `TrafficRules.markdownTable`, so operators read the rules in force.
    @Test func theDocumentedRulesAreTheRules() throws {
        let doc = try #require(SettingsTableTests.readFile(SettingsTableTests.repositoryRoot + "/docs/traffic.md"))
        let lines = doc.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let section = try #require(lines.firstIndex(of: "# Machine opens, prefetch and bots"))
        let header = try #require(lines[section...].firstIndex(of: "| rule | class | matches | source |"))
        let rows = Array(lines[header...].prefix { $0.hasPrefix("|") })
        // With PIXELGATE_REGENERATE=1 the table is written in its place.
        let expected = TrafficRules.markdownTable.split(separator: "\n").map(String.init)
        let made = (lines[..<header] + expected + lines[(header + rows.count)...]).joined(separator: "\n")
        GeneratedSource.check(SettingsTableTests.repositoryRoot + "/docs/traffic.md", is: made, testName: "TrafficTests")
    }
}
