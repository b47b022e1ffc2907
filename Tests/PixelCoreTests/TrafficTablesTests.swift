import Testing
@testable import PixelCore

/// `TrafficRules.all` reaches the binary as literal tables
/// (`Sources/PixelCore/Traffic/TrafficTables+Standard.swift`), which this
/// test writes from the rules: the two cannot drift apart.
struct TrafficTablesTests {
    static let file = SettingsTableTests.repositoryRoot + "/Sources/PixelCore/Traffic/TrafficTables+Standard.swift"
    static let rangesFile = SettingsTableTests.repositoryRoot + "/data/address-ranges.txt"

    /// `data/address-ranges.txt`, read.
    static func shippedLists() throws -> [AddressList] {
        try AddressRanges.parse(SettingsTableTests.readFile(rangesFile) ?? "")
    }

    /// The compiled tables are the ones the rules make, and the file is
    /// exactly what this test writes for them. After a change to the
    /// rules, `PIXELGATE_REGENERATE=1 swift test --filter TrafficTablesTests`
    /// writes it anew.
    @Test func theCompiledTablesAreTheRules() throws {
        let shipped = try Self.shippedLists()
        let made = TrafficTables(rules: TrafficRules.all, lists: shipped)
        let segments = TrafficTables.addressSegments(rules: TrafficRules.all, lists: shipped).map(\.list)
        guard GeneratedSource.check(Self.file, is: Self.source(made, lists: segments), testName: "TrafficTablesTests") else { return }
        #expect(TrafficTables.standard == made)
    }

    /// Every rule's tokens are found through the compiled tables as through
    /// tables made at run time: each token inside a browser's agent, in
    /// either case, gets the same verdict from both.
    @Test func theCompiledTablesClassLikeTheRules() {
        let made = TrafficClassifier(rules: TrafficRules.all, lists: AddressLists.standard)
        var tried = 0
        for rule in TrafficRules.all {
            guard case .userAgentContains(let tokens) = rule.test else { continue }
            for token in tokens {
                for agent in ["Mozilla/5.0 (X11; Linux x86_64) \(token) Safari/537.36", token.uppercased()] {
                    let standard = TrafficClassifier.standard.classify(header: { $0 == .userAgent ? agent : nil })
                    #expect(standard == made.classify(header: { $0 == .userAgent ? agent : nil }), "\(agent)")
                    #expect(standard.ruleID != "", "\(agent)")
                    tried += 1
                }
            }
        }
        #expect(tried > 100)
    }

    /// The switches a hit reads headers and classes by are `allCases`' order.
    @Test func theIndexSwitchesAreTheCasesOrder() {
        #expect(HitHeader.allCases.indices.map { HitHeader(index: UInt8($0)) } == HitHeader.allCases)
        #expect(HitClass.allCases.indices.map { HitClass(slot: UInt8($0)) } == HitClass.allCases)
        #expect(HitClass.allCases.map(\.slot) == Array(HitClass.allCases.indices))
    }

    /// A bot's `context.bot.url` is its rule's page, from the tables of
    /// whichever rules the classifier has (the standard ones, or others).
    @Test func eachRulesPageComesFromTheTables() {
        for rule in TrafficRules.all {
            #expect(TrafficClassifier.standard.url(ofRule: rule.id) == rule.url, "\(rule.id)")
        }
        let rules = [TrafficRule("with-page", .bot, .userAgentContains(["probe"]), source: "Probe's notes (https://probe.example/bot); more"),
                     TrafficRule("no-page", .bot, .userAgentContains(["other"]), source: "a test")]
        let classifier = TrafficClassifier(rules: rules, lists: [])
        #expect(classifier.url(ofRule: "with-page") == "https://probe.example/bot")
        #expect(classifier.url(ofRule: "no-page") == nil)
        #expect(classifier.url(ofRule: "google-crawler") == nil)
        #expect(TrafficClassifier.standard.url(ofRule: "click-before-read") == nil)
    }

    static func source(_ t: TrafficTables, lists: [AddressList]) -> String {
        func list<T>(_ values: [T], perLine: Int, _ show: (T) -> String) -> String {
            var lines: [String] = []
            var i = 0
            while i < values.count {
                lines.append("            " + values[i..<min(i + perLine, values.count)].map(show).joined(separator: ", ") + ",")
                i += perLine
            }
            return "[\n" + lines.joined(separator: "\n") + "\n        ]"
        }
        let number: (Int32) -> String = { "\($0)" }
        let byte: (UInt8) -> String = { "\($0)" }
        let word: (UInt64) -> String = { $0 == 0 ? "0" : "0x" + String($0, radix: 16) }
        let text: (String) -> String = { value in
            "\"" + value.map { $0 == "\"" || $0 == "\\" ? "\\\($0)" : String($0) }.joined() + "\""
        }
        return """
        // Generated from TrafficRules.all and data/address-ranges.txt by TrafficTablesTests; do not edit.
        // After a change to either: PIXELGATE_REGENERATE=1 swift test --filter TrafficTablesTests

        extension TrafficTables {
            static let standard = TrafficTables(
                startsToken: \(list(t.startsToken, perLine: 16, word)),
                bucketStart: \(list(t.bucketStart, perLine: 16, number)),
                tokenRule: \(list(t.tokenRule, perLine: 16, number)),
                tokenStart: \(list(t.tokenStart, perLine: 16, number)),
                tokenBytes: \(list(t.tokenBytes, perLine: 16, byte)),
                otherRule: \(list(t.otherRule, perLine: 16, number)),
                otherHeader: \(list(t.otherHeader, perLine: 16, byte)),
                otherExact: \(list(t.otherExact, perLine: 16, byte)),
                otherStart: \(list(t.otherStart, perLine: 16, number)),
                ruleIDs: \(list(t.ruleIDs, perLine: 1) { "\"\($0)\"" }),
                ruleClassSlots: \(list(t.ruleClassSlots, perLine: 16, byte)),
                ruleURLs: \(list(t.ruleURLs, perLine: 1, text)),
                addressSegments: \(list(t.addressSegments, perLine: 16, number)),
                ranges: \(list(t.ranges, perLine: 4, word)),
                rangeSummary: \(list(t.rangeSummary, perLine: 4, word)))
        }

        extension AddressLists {
            /// Each address segment's list: its name, source and version,
            /// for `pixelgate ranges` (the classifier needs only the ranges).
            static let compiledNames = \(list(lists.map(\.name), perLine: 1, text))
            static let compiledSources = \(list(lists.map(\.source), perLine: 1, text))
            static let compiledVersions = \(list(lists.map(\.version), perLine: 1, text))
        }

        """
    }
}
