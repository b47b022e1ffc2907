/// Reads the files in which Microsoft and Google publish the address
/// ranges of `data/address-ranges.txt`, for `pixelgate ranges import`: an
/// operator downloads them and writes a newer list than the one compiled in.
public enum PublishedRanges {
    /// The kinds of published file, and the list each fills.
    public enum Kind: String, Sendable, CaseIterable {
        /// Microsoft 365's endpoints (`endpoints.office.com/endpoints/worldwide`,
        /// JSON): the `ips` of the `Exchange` sets of Exchange Online
        /// Protection's servers (`urls` under `protection.outlook.com`).
        case microsoft
        /// Google's crawler ranges (`common-crawlers.json`,
        /// `special-crawlers.json`): `prefixes[].ipv4Prefix` and `ipv6Prefix`.
        case google

        public var listName: String {
            switch self {
            case .microsoft: return "microsoft-exchange-online-protection"
            case .google: return "google-crawlers"
            }
        }

        public var source: String {
            switch self {
            case .microsoft: return "Microsoft 365 endpoints, the Exchange sets of *.protection.outlook.com (https://endpoints.office.com/endpoints/worldwide?clientrequestid=b10c5ed1-bad1-445f-b386-b919946339a7)"
            case .google: return "Google's common and special-case crawlers (https://developers.google.com/static/crawling/ipranges/common-crawlers.json, https://developers.google.com/static/crawling/ipranges/special-crawlers.json)"
            }
        }

        /// The widest range a list of this kind holds: a mail filter's or
        /// a crawler's blocks are small, and a wider one means another file
        /// (Google's goog.json holds the addresses of its users' services)
        /// or a typo that would class every visitor a machine.
        public var widestPrefix: (v4: Int, v6: Int) {
            switch self {
            case .microsoft: return (14, 32)
            case .google: return (19, 44)
            }
        }

        /// The kind whose list has this name.
        public init?(listName: String) {
            guard let kind = Kind.allCases.first(where: { $0.listName == listName }) else { return nil }
            self = kind
        }

        /// Why `first...last` is wider than a list of this kind holds, or nil.
        public func tooWide(first: Address128, last: Address128) -> String? {
            let (isIPv4, bits) = AddressRanges.prefixLength(first: first, last: last)
            let widest = isIPv4 ? widestPrefix.v4 : widestPrefix.v6
            return bits < widest ? "wider than /\(widest), the widest \(isIPv4 ? "IPv4" : "IPv6") range of \(listName)" : nil
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
                // A set all of whose names are Exchange Online Protection's
                // (sets 9 and 10: *.protection.outlook.com, *.mx.microsoft).
                guard case .object(let members) = set,
                      members.contains(where: { $0.0 == "serviceArea" && $0.1 == .string("Exchange") }),
                      members.contains(where: { name, value in
                          guard name == "urls", case .array(let urls) = value, !urls.isEmpty else { return false }
                          return urls.allSatisfy {
                              guard case .string(let url) = $0 else { return false }
                              return url.hasSuffix(".protection.outlook.com") || url.hasSuffix(".mx.microsoft")
                          }
                      }) else { continue }
                for case ("ips", .array(let ips)) in members {
                    for case .string(let ip) in ips where !found.contains(ip) { found.append(ip) }
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
        }
        guard !found.isEmpty else { throw Problem("no address ranges in it: is it the file the kind names, as published?") }
        for range in found {
            guard let (first, last) = AddressRanges.range(range) else { throw Problem("'\(range.prefix(60))' in it is not an address range") }
            if let why = kind.tooWide(first: first, last: last) {
                throw Problem("'\(range)' in it is \(why): is it the file the kind names?")
            }
        }
        // The date goes into the file as its version: one line of text.
        if let text = date, text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw Problem("its creationTime holds a control character")
        }
        return (found, date)
    }
}

/// Just enough JSON for the published files: objects, arrays and strings,
/// read with `JSONSyntax`'s strict checks (its strings, numbers and
/// literals); numbers, `true`, `false` and `null` come back as `.other`.
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
        // A byte-order mark, which some services put before their JSON.
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        return bytes.withUnsafeBufferPointer { b in
            var i = JSONSyntax.skipSpace(b, start)
            guard let value = parseValue(b, &i, depth: 0) else { return nil }
            return JSONSyntax.skipSpace(b, i) == b.count ? value : nil
        }
    }

    static func parseValue(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, depth: Int) -> Value? {
        i = JSONSyntax.skipSpace(b, i)
        guard i < b.count, depth < 64 else { return nil }
        switch b[i] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = b[i] == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            var members: [(String, Value)] = [], items: [Value] = []
            i = JSONSyntax.skipSpace(b, i + 1)
            if i < b.count && b[i] == close {
                i += 1
            } else {
                while true {
                    var key = ""
                    if isObject {
                        guard let (name, next) = JSONSyntax.string(b, at: JSONSyntax.skipSpace(b, i)) else { return nil }
                        i = JSONSyntax.skipSpace(b, next)
                        guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                        i += 1
                        key = name
                    }
                    guard let value = parseValue(b, &i, depth: depth + 1) else { return nil }
                    if isObject { members.append((key, value)) } else { items.append(value) }
                    i = JSONSyntax.skipSpace(b, i)
                    guard i < b.count else { return nil }
                    if b[i] == close { i += 1; break }
                    guard b[i] == UInt8(ascii: ",") else { return nil }
                    i += 1
                }
            }
            return isObject ? .object(members) : .array(items)
        case UInt8(ascii: "\""):
            guard let (text, next) = JSONSyntax.string(b, at: i) else { return nil }
            i = next
            return .string(text)
        default:
            guard let next = JSONSyntax.value(b, at: i, depth: depth) else { return nil }
            i = next
            return .other
        }
    }
}
