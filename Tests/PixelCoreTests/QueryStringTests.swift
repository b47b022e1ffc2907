import Testing
@testable import PixelCore

@Suite("Query string (SPEC §2)")
struct QueryStringTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let query: String
        let pairs: [(String, String)]
        var testDescription: String { query.isEmpty ? "(empty)" : query }
    }

    @Test(arguments: [
        Case(query: "", pairs: []),
        Case(query: "a=1&b=2", pairs: [("a", "1"), ("b", "2")]),
        Case(query: "a=1;b=2", pairs: [("a", "1;b=2")]),
        Case(query: "a=1=2", pairs: [("a", "1=2")]),
        Case(query: "flag", pairs: [("flag", "")]),
        Case(query: "flag=", pairs: [("flag", "")]),
        Case(query: "&&a=1&&", pairs: [("a", "1")]),
        Case(query: "a+b=c+d", pairs: [("a b", "c d")]),
        Case(query: "a=%2B%20%26%3D", pairs: [("a", "+ &=")]),
        Case(query: "n%61me=v%C3%A9", pairs: [("name", "vé")]),
        Case(query: "a=%e2%82%ac", pairs: [("a", "€")]),
        Case(query: "a=x&a=y", pairs: [("a", "x"), ("a", "y")]),
        Case(query: "a=%00", pairs: [("a", "\u{0}")]),
    ])
    func splitsAndDecodes(_ c: Case) throws {
        let parsed = try QueryString.parse(c.query)
        #expect(parsed == c.pairs.map { QueryPair(name: $0.0, value: $0.1) })
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        let query: String
        let message: String
        var testDescription: String { query }
    }

    @Test(arguments: [
        Bad(query: "properties.a=%zz", message: "invalid percent-encoding in parameter 'properties.a'"),
        Bad(query: "a=%4", message: "invalid percent-encoding in parameter 'a'"),
        Bad(query: "a=%", message: "invalid percent-encoding in parameter 'a'"),
        Bad(query: "a=x%", message: "invalid percent-encoding in parameter 'a'"),
        Bad(query: "a=%g1", message: "invalid percent-encoding in parameter 'a'"),
        Bad(query: "pro%zzp=1", message: "invalid percent-encoding in parameter name 'pro%zzp'"),
        Bad(query: "a=%ff", message: "invalid UTF-8 in parameter 'a'"),
        Bad(query: "a=%c0%af", message: "invalid UTF-8 in parameter 'a'"),
        Bad(query: "a=%ed%a0%80", message: "invalid UTF-8 in parameter 'a'"),
        Bad(query: "a=%e2%82", message: "invalid UTF-8 in parameter 'a'"),
        Bad(query: "%ff=1", message: "invalid UTF-8 in parameter name '%ff'"),
        Bad(query: "a%00b=1", message: "control character in parameter name 'a?b'"),
        Bad(query: "a%0Ab=1", message: "control character in parameter name 'a?b'"),
    ])
    func refusesMalformedInput(_ c: Bad) {
        #expect(throws: PixelError.self) { try QueryString.parse(c.query) }
        do {
            _ = try QueryString.parse(c.query)
        } catch {
            #expect(error.message == c.message)
            #expect(error.status == 400)
        }
    }

    @Test func refusesRawBytesThatAreNotUTF8() {
        let raw: [UInt8] = Array("a=".utf8) + [0xFF, 0xFE]
        let result = raw.withUnsafeBufferPointer { buffer in Result { () throws(PixelError) in try QueryString.parse(buffer) } }
        #expect(throws: PixelError.invalidUTF8(parameter: "a")) { try result.get() }
    }

    @Test func queryLengthLimitAnswers414() throws {
        let limits = PixelLimits(maxQueryBytes: 100)
        let atLimit = "a=" + String(repeating: "x", count: 98)
        #expect(try QueryString.parse(atLimit, limits: limits).count == 1)
        #expect(throws: PixelError.queryTooLong(limit: 100)) { try QueryString.parse(atLimit + "x", limits: limits) }
        #expect(PixelError.queryTooLong(limit: 100).status == 414)
        #expect(PixelError.queryTooLong(limit: 100).message == "query string too long")
    }

    @Test func pairLimit() throws {
        let limits = PixelLimits(maxPairs: 3)
        #expect(try QueryString.parse("a=1&b=2&c=3&&", limits: limits).count == 3)
        #expect(throws: PixelError.tooManyPairs(limit: 3)) { try QueryString.parse("a=1&b=2&c=3&d=4", limits: limits) }
    }

    @Test func keyLengthLimitCountsDecodedBytes() throws {
        let limits = PixelLimits(maxKeyBytes: 8)
        #expect(try QueryString.parse("abcdefgh=1", limits: limits).count == 1)
        #expect(try QueryString.parse("%61bcdefgh=1", limits: limits).count == 1)
        #expect(throws: PixelError.nameTooLong(prefix: "abcdefghi", limit: 8)) { try QueryString.parse("abcdefghi=1", limits: limits) }
    }

    @Test func longNamesAreCutInMessages() {
        let name = String(repeating: "n", count: 300)
        do {
            _ = try QueryString.parse(name + "=1")
            Issue.record("a 300-byte name was accepted")
        } catch {
            #expect(error.message == "parameter name longer than 256 bytes: '\(String(repeating: "n", count: 64))…'")
        }
    }
}
