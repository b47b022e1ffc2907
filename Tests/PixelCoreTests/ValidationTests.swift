import Testing
@testable import PixelCore

@Suite("Validation and its order (SPEC §4)")
struct ValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let query: String
        let type: EventType
        let message: String
        var allowed: Set<String> = []
        var testDescription: String { "\(type) \(query) → \(message)" }
    }

    @Test(arguments: [
        Case(query: "anonymousId=a&event=e", type: .track, message: "missing required parameter: writeKey"),
        Case(query: "writeKey=&anonymousId=a", type: .page, message: "missing required parameter: writeKey"),
        Case(query: "writeKey.x=k&anonymousId=a", type: .page, message: "missing required parameter: writeKey"),
        Case(query: "writeKey=k", type: .page, message: "missing required parameter: anonymousId"),
        Case(query: "writeKey=k&anonymousId=", type: .page, message: "missing required parameter: anonymousId"),
        Case(query: "writeKey=k&anonymousId=%22%22", type: .page, message: "missing required parameter: anonymousId"),
        Case(query: "writeKey=k&anonymousId.x=1", type: .page, message: "missing required parameter: anonymousId"),
        Case(query: "writeKey=k&anonymousId=a", type: .track, message: "missing required parameter: event"),
        Case(query: "writeKey=k&anonymousId=a&event=", type: .track, message: "missing required parameter: event"),
        Case(query: "writeKey=k&anonymousId=a&event.x=1", type: .track, message: "missing required parameter: event"),
        Case(query: "writeKey=bad&anonymousId=a", type: .page, message: "invalid write key", allowed: ["good", "other"]),
        // Earlier checks win over later ones.
        Case(query: "a..b=1", type: .track, message: "empty path segment in parameter name 'a..b'"),
        Case(query: "writeKey=bad&a=%zz", type: .track, message: "invalid percent-encoding in parameter 'a'", allowed: ["good"]),
        Case(query: "writeKey=bad", type: .track, message: "invalid write key", allowed: ["good"]),
        Case(query: "writeKey=k&event=e", type: .track, message: "missing required parameter: anonymousId"),
    ])
    func firstFailureAnswers(_ c: Case) {
        let error = refusal(c.type, c.query, allowed: c.allowed)
        #expect(error?.message == c.message)
        #expect(error?.status == 400)
    }

    @Test func allowedWriteKeyPasses() {
        #expect(refusal(.page, "writeKey=good&anonymousId=a", allowed: ["good", "other"]) == nil)
    }

    @Test(arguments: ["a..b", ".a", "a.", ".", "", "properties..x"])
    func emptySegmentsAreRefused(_ name: String) {
        #expect(refusal(.page, "writeKey=k&anonymousId=a&\(name)=1")?.message == "empty path segment in parameter name '\(name)'")
    }

    @Test func depthLimit() {
        let limits = PixelLimits(maxDepth: 3)
        #expect(refusal(.page, "writeKey=k&anonymousId=a&a.b.c=1", limits: limits) == nil)
        #expect(refusal(.page, "writeKey=k&anonymousId=a&a.b.c.d=1", limits: limits) == .tooDeep(parameter: "a.b.c.d", limit: 3))
        #expect(PixelError.tooDeep(parameter: "a.b.c.d", limit: 3).message == "parameter name 'a.b.c.d' has more than 3 segments")
    }

    @Test func arrayIndexLimit() {
        #expect(refusal(.track, "writeKey=k&anonymousId=a&event=e&p.255=x") == nil)
        let error = refusal(.track, "writeKey=k&anonymousId=a&event=e&properties.a.99999999=x")
        #expect(error?.message == "array index 99999999 over the limit 255 in parameter 'properties.a.99999999'")
        let huge = refusal(.track, "writeKey=k&anonymousId=a&event=e&p.99999999999999999999999=x")
        #expect(huge?.code == "array_index_over_limit")
        // Under an existing object a digit segment is a key, and no index.
        #expect(refusal(.track, "writeKey=k&anonymousId=a&event=e&p.x=1&p.99999999=x") == nil)
    }

    @Test func worstCaseOutputStaysProportionate() throws {
        // 256 pairs each asking for the highest index: the bound SPEC §2 sets.
        // With the event size limit out of the way, the tree's own bound.
        let pairs = (0..<254).map { "p\($0).255=x" }.joined(separator: "&")
        let unlimited = PixelLimits(maxEventBytes: 1 << 30)
        let json = try eventJSON(.page, "writeKey=k&anonymousId=a&" + pairs, limits: unlimited)
        #expect(json.utf8.count < 254 * 256 * 6)
        // The default limit refuses it: the data plane could never take it.
        #expect(refusal(.page, "writeKey=k&anonymousId=a&" + pairs) == .eventTooLarge(limit: 64 * 1024))
    }
}
