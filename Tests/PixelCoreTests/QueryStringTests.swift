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

    /// The decoder reads eight bytes at a time; this one reads one, the
    /// rules of SPEC §2 and no more, so the two must agree on every query.
    static func referenceParse(_ query: [UInt8], limits: PixelLimits) -> Result<[QueryPair], PixelError> {
        Result { () throws(PixelError) -> [QueryPair] in
            func hex(_ b: UInt8) -> UInt8? { UInt8(String(UnicodeScalar(b)), radix: 16) }
            var pairs: [QueryPair] = []
            var i = 0
            while i < query.count {
                if query[i] == UInt8(ascii: "&") { i += 1; continue }
                if pairs.count == limits.maxPairs { throw .tooManyPairs(limit: limits.maxPairs) }
                var tokenEnd = i
                while tokenEnd < query.count && query[tokenEnd] != UInt8(ascii: "&") { tokenEnd += 1 }
                let token = query[i..<tokenEnd]
                let equals = token.firstIndex(of: UInt8(ascii: "="))
                let rawName = token[..<(equals ?? tokenEnd)]
                let rawValue = equals.map { token[($0 + 1)...] } ?? []
                func decoded(_ raw: ArraySlice<UInt8>) -> [UInt8]? {
                    var out: [UInt8] = []
                    var j = raw.startIndex
                    while j < raw.endIndex {
                        switch raw[j] {
                        case UInt8(ascii: "+"): out.append(UInt8(ascii: " ")); j += 1
                        case UInt8(ascii: "%"):
                            guard j + 2 < raw.endIndex, let hi = hex(raw[j + 1]), let lo = hex(raw[j + 2]) else { return nil }
                            out.append(hi << 4 | lo); j += 3
                        default: out.append(raw[j]); j += 1
                        }
                    }
                    return out
                }
                let rawNameText = quotable(rawName)
                guard let name = decoded(rawName) else { throw .invalidPercentEncodingInName(rawName: rawNameText) }
                guard let nameText = String(validating: name, as: UTF8.self) else { throw .invalidUTF8InName(rawName: rawNameText) }
                if name.count > limits.maxKeyBytes { throw .nameTooLong(prefix: quotable(name[...]), limit: limits.maxKeyBytes) }
                if name.contains(where: { $0 < 0x20 || $0 == 0x7F }) { throw .controlCharacterInName(parameter: quotable(name[...])) }
                guard let value = decoded(rawValue) else { throw .invalidPercentEncoding(parameter: quotable(name[...])) }
                guard let valueText = String(validating: value, as: UTF8.self) else { throw .invalidUTF8(parameter: quotable(name[...])) }
                pairs.append(QueryPair(name: nameText, value: valueText))
                i = tokenEnd
            }
            return pairs
        }
    }

    /// Random queries from the bytes the decoder treats specially, in runs
    /// that straddle its 8-byte blocks, against `referenceParse`.
    @Test func agreesWithAByteAtATimeDecoder() {
        let alphabet: [UInt8] = Array("&=+%2Fe0aZ.\\\"~,*!-".utf8) + [0x00, 0x09, 0x1F, 0x20, 0x7F, 0x80, 0xC3, 0xA9, 0xE2, 0xFF]
        let limits = PixelLimits(maxPairs: 20, maxKeyBytes: 24)
        var random = SplitMix64(state: 5)
        var accepted = 0
        for _ in 0..<20_000 {
            var query: [UInt8] = []
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                // A run of plain bytes (0–17 long), then a special piece.
                query += Array(repeating: UInt8(ascii: "x"), count: Int.random(in: 0...17, using: &random))
                switch Int.random(in: 0..<4, using: &random) {
                case 0: query += Array("%C3%A9".utf8)
                case 1: query += Array("%2".utf8) + [alphabet.randomElement(using: &random)!]
                default: query.append(alphabet.randomElement(using: &random)!)
                }
            }
            let expected = QueryStringTests.referenceParse(query, limits: limits)
            let got = query.withUnsafeBufferPointer { buffer in
                Result { () throws(PixelError) -> [QueryPair] in try QueryString.parse(buffer, limits: limits) }
            }
            #expect(got == expected, "query bytes \(query)")
            if case .success = got { accepted += 1 }
        }
        // Both outcomes were exercised, not only refusals.
        #expect(accepted > 2_000 && accepted < 18_000, "\(accepted) of 20000 accepted")
    }
}
