import Testing
@testable import PixelCore

/// The input rules that decide whether the data plane can take an event
/// (SPEC §2–§4): ids it would refuse a whole batch for, values it reads as
/// other types, repeated names, the event's size and its time.
@Suite("Rules that keep every accepted event deliverable (SPEC §2–§4, §6)")
struct DeliveryRulesTests {
    static let base = "writeKey=wk&event=e"

    /// What the gateway strips before asking whether an id is empty.
    @Test(arguments: [
        ("%20", "a space"), ("%09", "a tab"), ("%0A%0D", "line ends"), ("%C2%A0", "NBSP"), ("%E3%80%80", "U+3000"),
        ("%E2%80%8B", "zero-width space"), ("%00", "NUL"), ("%C2%AD", "soft hyphen"), ("%E2%81%A0", "word joiner"),
        ("%EF%BB%BF", "BOM"), ("%F3%A0%81%81", "a tag character"), ("%E3%85%A4", "Hangul filler"),
        ("%E2%A0%80", "blank Braille"), ("%EE%80%80", "private use"), ("%E2%80%A8", "line separator"),
        ("%22%20%22", "a quoted space"), ("%20%E2%80%8B%09%C2%A0", "a mix"),
    ])
    func blankAnonymousIdsAreRefused(_ c: (String, String)) {
        #expect(refusal(.track, DeliveryRulesTests.base + "&anonymousId=" + c.0) == .missingAnonymousId, "\(c.1)")
    }

    @Test(arguments: [("a", "a"), ("%20a%20", " a "), ("%C3%A9", "é"), ("%E4%B8%AD", "中"), ("%F0%9F%98%80", "😀"),
                      ("0", "0"), ("%E2%80%8Bx", "\u{200B}x"), ("-", "-"), ("%22%22x%22", "\"x")])
    func idsWithSomethingVisibleAreKeptAsSent(_ c: (String, String)) throws {
        let json = try eventJSON(.track, DeliveryRulesTests.base + "&anonymousId=" + c.0)
        #expect(json.contains(#""anonymousId":"# + JSONValue.string(c.1).jsonString), "\(json)")
    }

    @Test func aBlankMessageIdIsReplacedAndAnObjectOneRefused() throws {
        for blank in ["", "%20", "%E2%80%8B"] {
            let json = try eventJSON(.track, "writeKey=wk&anonymousId=a&event=e&messageId=" + blank)
            #expect(json.contains(#""messageId":"\#(fixedMessageId)""#), "\(blank): \(json)")
        }
        #expect(try eventJSON(.track, "writeKey=wk&anonymousId=a&event=e&messageId=m-1").contains(#""messageId":"m-1""#))
        #expect(refusal(.track, "writeKey=wk&anonymousId=a&event=e&messageId.x=1") == .messageIdNotString(parameter: "messageId.x"))
        #expect(PixelError.messageIdNotString(parameter: "messageId.x").message == "invalid parameter 'messageId.x': messageId is a string")
    }

    @Test(arguments: [
        ("integrations.GA=false", #""integrations":{"GA":false,"All":true}"#),
        ("integrations.GA=true&integrations.Braze=false", #""integrations":{"GA":true,"Braze":false,"All":true}"#),
        ("integrations.All=false&integrations.GA=true", #""integrations":{"All":false,"GA":true}"#),
        ("integrations.GA=false&integrations.GA=true", #""integrations":{"GA":false,"All":true}"#),
        ("", #""integrations":{"All":true}"#),
    ])
    func integrationsAreBooleans(_ c: (String, String)) throws {
        let json = try eventJSON(.track, "writeKey=wk&anonymousId=a&event=e&" + c.0)
        #expect(json.contains(c.1), "\(json)")
    }

    @Test(arguments: ["integrations.GA=yes", "integrations.GA=TRUE", "integrations.GA=1", "integrations.GA=",
                      "integrations.GA", "integrations=true", "integrations.GA.x=true", "integrations.0=true%20"])
    func otherIntegrationValuesAreRefused(_ pair: String) {
        let name = String(pair.prefix { $0 != "=" })
        #expect(refusal(.track, "writeKey=wk&anonymousId=a&event=e&" + pair) == .invalidIntegration(parameter: name))
    }

    @Test(arguments: [
        ("properties.tags=a&properties.tags=b", #""properties":{"tags":["a","b"]}"#),
        ("properties.tags=a&properties.x=1&properties.tags=b&properties.tags=c", #""properties":{"tags":["a","b","c"],"x":"1"}"#),
        ("properties.a.b=1&properties.a.b=2", #""properties":{"a":{"b":["1","2"]}}"#),
        ("properties.items.0=a&properties.items=b&properties.items=c", #""properties":{"items":["b","c"]}"#),
        ("properties.x=a&properties.x.y=1&properties.x=b", #""properties":{"x":"b"}"#),
        ("properties.tags=&properties.tags=", #""properties":{"tags":["",""]}"#),
        ("context.tags=a&context.tags=b", #""context":{"tags":"a","#),
        ("event=first", #""event":"e""#),
    ])
    func repeatedPropertiesMakeArraysAndOtherRepeatsKeepTheFirst(_ c: (String, String)) throws {
        let json = try eventJSON(.track, "writeKey=wk&anonymousId=a&event=e&" + c.0)
        #expect(json.contains(c.1), "\(json)")
    }

    @Test func theEventSizeLimitHoldsOnBothSides() throws {
        let query = "writeKey=wk&anonymousId=a&event=e&properties.v=" + String(repeating: "x", count: 1000)
        let size = try EventEngine.build(type: .track, query: query, facts: fixedFacts).eventJSON.count
        #expect(refusal(.track, query, limits: PixelLimits(maxEventBytes: size)) == nil)
        #expect(refusal(.track, query, limits: PixelLimits(maxEventBytes: size - 1)) == .eventTooLarge(limit: size - 1))
        #expect(PixelError.eventTooLarge(limit: 1).message == "event too large")
        // The 2.7 KB query of the issue: 324 KB of nulls, refused by default.
        let padded = (0..<255).map { "p.\($0).255=x" }.prefix(250).joined(separator: "&")
        #expect(refusal(.page, "writeKey=wk&anonymousId=a&" + padded) == .eventTooLarge(limit: 64 * 1024))
    }

    /// A hit at the fixed time with the client's own clock in the query.
    @Test(arguments: [
        ("", fixedTime),
        // The client says it sent 5 s after the event: the event was 5 s before the hit.
        ("originalTimestamp=2026-11-27T10:00:00.000Z&sentAt=2026-11-27T10:00:05.000Z", "2026-11-27T13:26:07.345Z"),
        // A client clock that is an hour off changes nothing but the skew.
        ("originalTimestamp=2026-11-27T11:00:00Z&sentAt=2026-11-27T11:00:02.5Z", "2026-11-27T13:26:09.845Z"),
        ("originalTimestamp=2026-11-27T12:00:00%2B01:00&sentAt=2026-11-27T11:00:03Z", "2026-11-27T13:26:09.345Z"),
        ("originalTimestamp=2026-11-27+11:00:00-0100&sentAt=2026-11-27T12:00:01Z", "2026-11-27T13:26:11.345Z"),
        // AMP's ${timestamp} is epoch milliseconds.
        ("originalTimestamp=1764000000000&sentAt=1764000001500", "2026-11-27T13:26:10.845Z"),
        ("originalTimestamp=1764000000&sentAt=1764000003", "2026-11-27T13:26:09.345Z"),
        // Only one of the two: the other is the hit's time.
        ("originalTimestamp=\(fixedMillis - 60_000)", "2026-11-27T13:25:12.345Z"),
        ("sentAt=\(fixedMillis + 1000)", "2026-11-27T13:26:11.345Z"),
        // Values the processor cannot read count as the hit's time.
        ("originalTimestamp=yesterday&sentAt=2026-11-27T13:26:12.345Z", "2026-11-27T13:26:12.345Z"),
        ("originalTimestamp=2026-13-01T00:00:00Z", fixedTime),
        ("originalTimestamp.x=1", fixedTime),
    ])
    func theTimestampIsTheHitsTimeAsTheProcessorWouldCompute(_ c: (String, String)) throws {
        let json = try eventJSON(.track, "writeKey=wk&anonymousId=a&event=e&" + c.0)
        #expect(json.contains(#""timestamp":"\#(c.1)""#), "\(json)")
        #expect(json.contains(#""receivedAt":"\#(fixedTime)""#))
    }

    @Test func aTimestampInTheQueryIsKeptWhenTheProcessorCanReadIt() throws {
        let json = try eventJSON(.track, "writeKey=wk&anonymousId=a&event=e&timestamp=2020-01-01T00:00:00Z")
        #expect(json.contains(#""timestamp":"2020-01-01T00:00:00Z""#))
        #expect(json.split(separator: "\"timestamp\"", omittingEmptySubsequences: false).count == 2)
        // One it cannot read it would replace by its rule, with the hit's time.
        for unreadable in ["timestamp=soon", "timestamp=", "timestamp.x=1"] {
            let json = try eventJSON(.track, "writeKey=wk&anonymousId=a&event=e&sentAt=\(fixedMillis + 2000)&" + unreadable)
            #expect(json.contains(#""timestamp":"2026-11-27T13:26:10.345Z""#), "\(unreadable): \(json)")
            #expect(json.split(separator: "\"timestamp\"", omittingEmptySubsequences: false).count == 2)
        }
    }

    @Test func repeatsStopAtTheArrayIndexLimitAndIntegrationsTakeNoIndex() {
        let limits = PixelLimits(maxArrayIndex: 2)
        #expect(refusal(.track, "writeKey=wk&anonymousId=a&event=e&properties.t=1&properties.t=2&properties.t=3", limits: limits) == nil)
        #expect(refusal(.track, "writeKey=wk&anonymousId=a&event=e&properties.t=1&properties.t=2&properties.t=3&properties.t=4",
                        limits: limits) == .arrayIndexOverLimit(parameter: "properties.t", index: "3", limit: 2))
        #expect(refusal(.track, "writeKey=wk&anonymousId=a&event=e&integrations.0=true") == .invalidIntegration(parameter: "integrations.0"))
    }

    @Test(arguments: [
        ("2026-11-27T13:26:12.345Z", fixedMillis), ("2026-11-27T13:26:12.345678Z", fixedMillis),
        ("2026-11-27 13:26:12.345", fixedMillis), ("2026-11-27T14:26:12.345+01:00", fixedMillis),
        ("2026-11-27T12:26:12.345-0100", fixedMillis), ("2026-11-27T14:26:12.345+01", fixedMillis),
        ("2026-11-27T13:26", fixedMillis - 12_345), ("2026-11-27", fixedMillis - 48_372_345),
        ("1795785972345", fixedMillis), ("1795785972", fixedMillis - 345), ("1795785972345000", fixedMillis),
        ("1795785972345000000", fixedMillis), ("20261127132612", fixedMillis - 345), ("20261127", fixedMillis - 48_372_345),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000), ("1970-01-01T00:00:00Z", 0),
        ("Fri, 27 Nov 2026 13:26:12 GMT", fixedMillis - 345), ("Fri, 27 Nov 2026 14:26:12 +0100", fixedMillis - 345),
        ("2026/11/27 13:26:12.345", fixedMillis),
    ])
    func clientTimesParse(_ c: (String, Int64)) {
        var text = c.0
        #expect(text.withUTF8 { ClientTime.parseMillis($0) } == c.1, "\(c.0)")
    }

    @Test(arguments: ["", "now", "2026-11-27T25:00:00Z", "2026-02-30", "2025-02-29", "2026-11-27T13:26:12.Z",
                      "2026-11-27T13:26:12+5", "12345", "123456789012", "2026/11-27", "-1795785972",
                      // Past Int64: dateparse's ParseInt fails too, so the processor uses its own time.
                      "9999999999999999999", "2026-11-27T13:26:60Z", "Fri, 27 Nov 2026 13:26:12 CET"])
    func otherClientTimesDoNot(_ text: String) {
        var text = text
        #expect(text.withUTF8 { ClientTime.parseMillis($0) } == nil)
    }
}
