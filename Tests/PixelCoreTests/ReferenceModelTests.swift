import Testing
@testable import PixelCore

/// A small, seeded random source, so a failing query can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Queries built from the pieces that meet the mapping's edge cases:
/// colliding names, digit segments, escaped dots, server fields, quotes,
/// escapes good and bad, and bytes that are not UTF-8.
enum QueryGenerator {
    static let segments = ["a", "b", "0", "1", "3", "255", "00", "properties", "context", "page", "url", "path", "title",
                           "referrer", "name", "anonymousId", "writeKey", "event", "type", "receivedAt", "request_ip",
                           "messageId", "channel", "integrations", "All", "sentAt", "originalTimestamp", "timestamp", "tags", "x\\.y", "\\", "%2E", "%C3%A9", "+",
                           // Server words' look-alikes: the same first 8 bytes, or one byte off.
                           "receivedAX", "request_iq", "originalTimestampX", "originalTimestamP", "contexT", "nam"]
    static let badSegments = ["", "256", "99999999999999999999", "%0A", "%ZZ", "%FF"]
    static let values = ["", "v", "%22q%22", "%22", "Hello+World", "%C3%A9t%C3%A9", "a%5Cb", "%0D%0A", "%00", "x=y",
                         "%F0%9F%98%80", "https%3A%2F%2Fexample.com%2F", "true", "false", "%20", "%E2%80%8B", "%C2%A0x",
                          "2026-11-27T13:26:12.345Z", "2026-11-27+13:26:10%2B02:00", "1764250000123", "20261127"]
    static let badValues = ["%ZZ", "%4", "%FF", "%ED%A0%80", "caf%C3", "%C0%80"]

    /// Mostly good pieces, with a bad one about one time in forty.
    static func pick(_ good: [String], _ bad: [String], _ random: inout SplitMix64) -> String {
        Int.random(in: 0..<40, using: &random) == 0 ? bad.randomElement(using: &random)! : good.randomElement(using: &random)!
    }

    static func query(_ random: inout SplitMix64) -> String {
        var pairs: [String] = []
        if Int.random(in: 0..<10, using: &random) < 8 { pairs.append("writeKey=wk") }
        if Int.random(in: 0..<10, using: &random) < 8 { pairs.append("anonymousId=" + pick(values, badValues, &random)) }
        if Int.random(in: 0..<10, using: &random) < 8 { pairs.append("event=" + pick(values, badValues, &random)) }
        // A name twice: repeats under properties make arrays.
        if Int.random(in: 0..<4, using: &random) == 0 {
            let name = "properties." + segments.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 2...3, using: &random) { pairs.append(name + "=" + pick(values, badValues, &random)) }
        }
        for _ in 0..<Int.random(in: 0...12, using: &random) {
            let depth = Int.random(in: 1...4, using: &random)
            let name = (0..<depth).map { _ in pick(segments, badSegments, &random) }.joined(separator: ".")
            switch Int.random(in: 0..<10, using: &random) {
            case 0: pairs.append(name)
            case 1: pairs.append("")
            default: pairs.append(name + "=" + pick(values, badValues, &random))
            }
        }
        pairs.shuffle(using: &random)
        return pairs.joined(separator: "&")
    }
}

@Suite("The event builder against the reference model")
struct ReferenceModelTests {
    static let limits = PixelLimits(maxQueryBytes: 4096, maxPairs: 12, maxKeyBytes: 40, maxDepth: 3, maxArrayIndex: 255)

    /// The reference model's answer: the event JSON, or the error.
    static func reference(_ type: EventType, _ query: String, limits: PixelLimits) -> Result<String, PixelError> {
        Result { () throws(PixelError) -> String in
            let pairs = try QueryString.parse(query, limits: limits)
            let built = try ReferenceModel.build(type: type, pairs: pairs, facts: fixedFacts, limits: limits)
            return #"{"writeKey":"# + JSONValue.string(built.writeKey).jsonString + #","event":"#
                + JSONValue.object(built.event).jsonString + "}\n"
        }
    }

    static func shipped(_ type: EventType, _ query: String, limits: PixelLimits) -> Result<String, PixelError> {
        Result { () throws(PixelError) -> String in
            String(decoding: try EventEngine.build(type: type, query: query, facts: fixedFacts, limits: limits).recordLine, as: UTF8.self)
        }
    }

    @Test(arguments: [EventType.page, .track])
    func generatedQueriesGiveTheSameLineOrTheSameError(type: EventType) {
        var random = SplitMix64(state: type == .page ? 1 : 2)
        var accepted = 0
        for _ in 0..<20_000 {
            let query = QueryGenerator.query(&random)
            for limits in [PixelLimits.default, ReferenceModelTests.limits] {
                let expected = ReferenceModelTests.reference(type, query, limits: limits)
                let got = ReferenceModelTests.shipped(type, query, limits: limits)
                #expect(got == expected, "query: \(query)")
                if got != expected { return }
                if case .success = got { accepted += 1 }
            }
        }
        // The generator must reach both outcomes often, or the comparison says little.
        #expect(accepted > 3_000)
        #expect(accepted < 35_000)
    }

    /// Wide objects (past the member index's threshold), replaced and
    /// refilled: the index must agree with a plain scan. Keys are short, or
    /// long and alike in their first eight bytes or more, which keys
    /// compare and hash by.
    @Test func wideObjectsGiveTheSameLine() {
        var random = SplitMix64(state: 4)
        let parents = ["properties", "context", "properties.items.0", "a"]
        func key(_ random: inout SplitMix64) -> String {
            let n = Int.random(in: 0..<40, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return "k\(n)"
            case 1: return "sharedpr\(n)"
            default: return "shared_prefix_of_sixteen_\(n)"
            }
        }
        for _ in 0..<3_000 {
            var pairs = ["writeKey=wk", "anonymousId=a1"]
            for _ in 0..<Int.random(in: 10...80, using: &random) {
                let parent = parents.randomElement(using: &random)!
                switch Int.random(in: 0..<12, using: &random) {
                case 0: pairs.append(parent + "=flat")  // a string replaces the object
                case 1: pairs.append(parent + "." + key(&random) + ".deeper=x")
                default: pairs.append(parent + "." + key(&random) + "=v\(Int.random(in: 0..<9, using: &random))")
                }
            }
            let query = pairs.joined(separator: "&")
            let got = ReferenceModelTests.shipped(.page, query, limits: .default)
            #expect(got == ReferenceModelTests.reference(.page, query, limits: .default), "query: \(query)")
            guard case .success = got else {
                Issue.record("refused: \(query)")
                return
            }
        }
    }

    @Test func everyAcceptedLineIsOneValidJSONRecord() {
        var random = SplitMix64(state: 3)
        for _ in 0..<5_000 {
            let query = QueryGenerator.query(&random)
            guard let event = try? EventEngine.build(type: .page, query: query, facts: fixedFacts) else { continue }
            let line = event.recordLine
            #expect(line.last == 0x0A && !line.dropLast().contains(0x0A), "query: \(query)")
            #expect(SpoolLine.parse(line.dropLast()) != nil, "query: \(query)")
        }
    }
}
