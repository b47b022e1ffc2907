import Testing
@testable import PixelCore

/// The one JSON writer: its escaping checked against a plain escaper
/// written here byte by byte, its two string paths against each other, and
/// its growth against writing into room reserved up front.
@Suite("JSON writer")
struct JSONWriterTests {
    /// JSON escaping as SPEC §3 and the old writers had it, one byte at a
    /// time: `"`, `\`, `\n`, `\r`, `\t` by name, other control bytes as
    /// `\u00XX` (lowercase), everything else (DEL and UTF-8 included) as is.
    static func plainEscape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        let hex = Array("0123456789abcdef".utf8)
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case 0x0A: out += Array(#"\n"#.utf8)
            case 0x0D: out += Array(#"\r"#.utf8)
            case 0x09: out += Array(#"\t"#.utf8)
            case 0..<0x20: out += Array(#"\u00"#.utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// Both string paths: the public one, which reads nothing past the
    /// bytes, and the engine's, which reads up to 8 bytes past them.
    static func bothPaths(_ bytes: [UInt8], capacity: Int = 16) -> (safe: [UInt8], padded: [UInt8]) {
        var safe = JSONWriter(capacity: capacity)
        bytes.withUnsafeBufferPointer { safe.string($0) }
        var padded = JSONWriter(capacity: capacity)
        let copy = bytes + [UInt8](repeating: 0x41, count: 8)
        copy.withUnsafeBufferPointer { padded.string(padded: $0.baseAddress!, count: bytes.count) }
        return (safe.bytes, padded.bytes)
    }

    @Test func everyByteEscapesAsTheSpecSays() {
        for b in 0...255 {
            let bytes = [UInt8(ascii: "a"), UInt8(b), UInt8(ascii: "z")]
            let (safe, padded) = JSONWriterTests.bothPaths(bytes)
            #expect(safe == JSONWriterTests.plainEscape(bytes), "byte \(b)")
            #expect(padded == safe, "byte \(b)")
        }
    }

    /// Lengths around the 8-byte blocks, with the byte that needs escaping
    /// at every place in them.
    @Test func theBlockPathsAgreeAtEveryLengthAndPlace() {
        for length in 0...40 {
            for place in -1..<length {
                for special: UInt8 in [0x22, 0x5C, 0x0A, 0x01, 0x1F] {
                    var bytes = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
                    if place >= 0 { bytes[place] = special }
                    let (safe, padded) = JSONWriterTests.bothPaths(bytes)
                    #expect(safe == JSONWriterTests.plainEscape(bytes), "\(length) \(place) \(special)")
                    #expect(padded == safe, "\(length) \(place) \(special)")
                }
            }
        }
    }

    /// The writer grows as it goes: from the smallest start, long and
    /// escape-heavy strings come out as from room reserved up front.
    @Test func growingGivesTheSameBytes() {
        var random = SplitMix64(state: 7)
        for _ in 0..<200 {
            let pieces = (0..<Int(random.next() % 12)).map { _ in
                (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next() % 128) }
            }
            var small = JSONWriter(capacity: 0)
            var large = JSONWriter(capacity: 1 << 16)
            var expected: [UInt8] = []
            for piece in pieces {
                piece.withUnsafeBufferPointer { small.string($0) }
                let padded = piece + [UInt8](repeating: 0, count: 8)
                padded.withUnsafeBufferPointer { large.string(padded: $0.baseAddress!, count: piece.count) }
                small.byte(UInt8(ascii: ","))
                large.byte(UInt8(ascii: ","))
                expected += JSONWriterTests.plainEscape(piece) + [UInt8(ascii: ",")]
            }
            #expect(small.bytes == expected)
            #expect(large.bytes == expected)
            #expect(small.count == expected.count)
        }
    }

    @Test func removeAllKeepsWritingFromTheStart() {
        var writer = JSONWriter(capacity: 16)
        writer.string(String(repeating: "x", count: 100))
        writer.removeAll()
        writer.raw("null")
        writer.byte(UInt8(ascii: ","))
        writer.bool(false)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "null,false")
        #expect(writer.count == 10)
    }

    /// `JSONValue` writes through the same writer: exact bytes.
    @Test func jsonValuesWriteCompactJSON() {
        var object = JSONObject()
        object["a\""] = .string("x\"\n\u{1}é")
        object["b"] = .array([.null, .bool(true), .bool(false), .array([]), .object(JSONObject())])
        let value = JSONValue.object(object)
        #expect(value.jsonString == #"{"a\"":"x\"\n\u0001é","b":[null,true,false,[],{}]}"#)
        var appended = Array("x".utf8)
        value.encode(into: &appended)
        #expect(appended == Array("x".utf8) + value.jsonBytes)
        var string: [UInt8] = []
        JSONValue.encodeString("\t\\", into: &string)
        #expect(String(decoding: string, as: UTF8.self) == #""\t\\""#)
        #expect(JSONSyntax.isValid(value.jsonBytes[...]))
    }
}
