/// Reads the files in which Microsoft, Google and Apple publish the address
/// ranges of `data/address-ranges.txt`, for `pixelgate ranges import`: an
/// operator downloads them and writes a newer list than the one compiled in.
public enum PublishedRanges {
    /// The kinds of published file, and the list each fills.
    public enum Kind: String, Sendable, CaseIterable {
        /// Microsoft 365's endpoints (`endpoints.office.com/endpoints/worldwide`,
        /// JSON): the `ips` of every set whose `serviceArea` is `Exchange`.
        case microsoft
        /// Google's crawler ranges (`common-crawlers.json`,
        /// `special-crawlers.json`): `prefixes[].ipv4Prefix` and `ipv6Prefix`.
        case google
        /// iCloud Private Relay's egress (`egress-ip-ranges.csv`): the first
        /// column of each line.
        case apple

        public var listName: String {
            switch self {
            case .microsoft: return "microsoft-exchange-online"
            case .google: return "google-crawlers"
            case .apple: return "icloud-private-relay"
            }
        }

        public var source: String {
            switch self {
            case .microsoft: return "Microsoft 365 endpoints, Exchange Online sets (https://endpoints.office.com/endpoints/worldwide?clientrequestid=b10c5ed1-bad1-445f-b386-b919946339a7)"
            case .google: return "Google's common and special-case crawlers (https://developers.google.com/static/crawling/ipranges/common-crawlers.json, https://developers.google.com/static/crawling/ipranges/special-crawlers.json)"
            case .apple: return "iCloud Private Relay's egress ranges (https://mask-api.icloud.com/egress-ip-ranges.csv)"
            }
        }
    }

    /// What a published file is not.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// The ranges of one published file, as written in it, and its own
    /// date if it has one (Google's `creationTime`).
    public static func ranges(_ kind: Kind, _ bytes: [UInt8]) throws(Problem) -> (ranges: [String], date: String?) {
        var found: [String] = []
        var date: String?
        switch kind {
        case .microsoft:
            guard case .array(let sets)? = JSONReader.parse(bytes) else { throw Problem("not the JSON array of endpoint sets Microsoft publishes") }
            for set in sets {
                guard case .object(let members) = set,
                      members.contains(where: { $0.0 == "serviceArea" && $0.1 == .string("Exchange") }) else { continue }
                for case ("ips", .array(let ips)) in members {
                    for case .string(let ip) in ips { found.append(ip) }
                }
            }
        case .google:
            guard case .object(let members)? = JSONReader.parse(bytes) else { throw Problem("not the JSON object of prefixes Google publishes") }
            for (name, value) in members {
                if name == "creationTime", case .string(let text) = value { date = text }
                guard name == "prefixes", case .array(let prefixes) = value else { continue }
                for case .object(let prefix) in prefixes {
                    for case (let key, .string(let range)) in prefix where key == "ipv4Prefix" || key == "ipv6Prefix" { found.append(range) }
                }
            }
        case .apple:
            for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let first = line.prefix { $0 != "," }.trimmingSpaces()
                if !first.isEmpty { found.append(String(first)) }
            }
        }
        guard !found.isEmpty else { throw Problem("no address ranges in it: is it Microsoft's, Google's or Apple's file as published?") }
        for range in found where AddressRanges.range(range) == nil {
            throw Problem("'\(range.prefix(60))' in it is not an address range")
        }
        return (found, date)
    }
}

/// Just enough JSON for the published files: objects, arrays and strings;
/// numbers, `true`, `false` and `null` are read past as `.other`.
enum JSONReader {
    indirect enum Value: Equatable {
        case object([(String, Value)])
        case array([Value])
        case string(String)
        case other

        static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case (.string(let x), .string(let y)): return x == y
            case (.other, .other): return true
            case (.array(let x), .array(let y)): return x == y
            case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: return false
            }
        }
    }

    static func parse(_ bytes: [UInt8]) -> Value? {
        var i = 0
        guard let value = parseValue(bytes, &i, depth: 0) else { return nil }
        skip(bytes, &i)
        return i == bytes.count ? value : nil
    }

    static func skip(_ b: [UInt8], _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 || b[i] == 0xEF || b[i] == 0xBB || b[i] == 0xBF { i += 1 }
    }

    static func parseValue(_ b: [UInt8], _ i: inout Int, depth: Int) -> Value? {
        skip(b, &i)
        guard i < b.count, depth < 64 else { return nil }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, Value)] = []
            skip(b, &i)
            if i < b.count && b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skip(b, &i)
                guard case .string(let key)? = readString(b, &i) else { return nil }
                skip(b, &i)
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                guard let value = parseValue(b, &i, depth: depth + 1) else { return nil }
                members.append((key, value))
                skip(b, &i)
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                guard b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [Value] = []
            skip(b, &i)
            if i < b.count && b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                guard let value = parseValue(b, &i, depth: depth + 1) else { return nil }
                items.append(value)
                skip(b, &i)
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                guard b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        case UInt8(ascii: "\""):
            return readString(b, &i)
        default:
            // A number, true, false or null: its bytes up to the next
            // structural one.
            let start = i
            while i < b.count, !",]} \n\r\t".utf8.contains(b[i]) { i += 1 }
            return i > start ? .other : nil
        }
    }

    static func readString(_ b: [UInt8], _ i: inout Int) -> Value? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        var out: [UInt8] = []
        while i < b.count {
            let c = b[i]
            i += 1
            if c == UInt8(ascii: "\"") { return .string(String(decoding: out, as: UTF8.self)) }
            if c == UInt8(ascii: "\\") {
                guard i < b.count else { return nil }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    // Kept as a replacement: no range is written with escapes.
                    guard i + 4 <= b.count else { return nil }
                    i += 4
                    out += [0xEF, 0xBF, 0xBD]
                default: out.append(e)
                }
            } else {
                out.append(c)
            }
        }
        return nil
    }
}
