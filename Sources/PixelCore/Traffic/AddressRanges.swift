/// An address as one 128-bit number, IPv4 mapped into `::ffff:0:0/96`:
/// what the traffic rules' address lists compare.
public struct Address128: Sendable, Equatable, Comparable {
    public var hi: UInt64
    public var lo: UInt64

    public init(hi: UInt64, lo: UInt64) {
        self.hi = hi
        self.lo = lo
    }

    public static func < (a: Address128, b: Address128) -> Bool { a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo }

    /// The next address; the last one's is itself.
    var successor: Address128 {
        if lo != .max { return Address128(hi: hi, lo: lo + 1) }
        return hi == .max ? self : Address128(hi: hi + 1, lo: 0)
    }

    /// The text of an address (`203.0.113.9`, `2001:db8::1`,
    /// `::ffff:192.0.2.1`), read in place without a copy: every hit's
    /// address is read once when a rule names an address list. False for
    /// anything else (a zone, brackets, a port, spaces), with `self` unset.
    @inline(__always)
    public mutating func read(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var sawColon = false
        for b in text where b == UInt8(ascii: ":") { sawColon = true; break }
        if !sawColon {
            var v4: UInt32 = 0
            guard Self.readIPv4(text, 0, text.count, &v4) else { return false }
            hi = 0
            lo = 0xFFFF_0000_0000 | UInt64(v4)
            return true
        }
        return readIPv6(text)
    }

    /// Dotted-quad IPv4 in `text[from..<to]`: four decimal parts of at
    /// most three digits, each at most 255.
    static func readIPv4(_ text: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, _ out: inout UInt32) -> Bool {
        var value: UInt32 = 0, part: UInt32 = 0, digits = 0, parts = 0
        var i = from
        while i <= to {
            if i == to || text[i] == UInt8(ascii: ".") {
                guard digits > 0, part <= 255 else { return false }
                value = value << 8 | part
                parts += 1
                part = 0
                digits = 0
            } else {
                let d = text[i] &- 0x30
                guard d < 10, digits < 3 else { return false }
                part = part * 10 + UInt32(d)
                digits += 1
            }
            i += 1
        }
        guard parts == 4 else { return false }
        out = value
        return true
    }

    /// RFC 4291 text: up to eight groups of one to four hex digits, one `::`
    /// at most, and a dotted IPv4 tail in place of the last two groups.
    mutating func readIPv6(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        // Groups before the `::` go in from the top, those after it are
        // gathered and shifted to the bottom at the end.
        var head = (UInt64(0), UInt64(0)), tail = (UInt64(0), UInt64(0))
        var headCount = 0, tailCount = 0, afterGap = false
        let n = text.count
        var i = 0
        if n >= 2 && text[0] == UInt8(ascii: ":") && text[1] == UInt8(ascii: ":") {
            afterGap = true
            i = 2
        } else if n >= 1 && text[0] == UInt8(ascii: ":") {
            return false
        }
        func push(_ group: UInt64, _ count: inout Int, _ words: inout (UInt64, UInt64)) {
            // Shift the 128 bits left by 16 and add the group.
            words.0 = words.0 << 16 | words.1 >> 48
            words.1 = words.1 << 16 | group
            count += 1
        }
        while i < n {
            // One group, or the IPv4 tail.
            var j = i, group: UInt64 = 0, digits = 0, sawDot = false
            while j < n && text[j] != UInt8(ascii: ":") {
                if text[j] == UInt8(ascii: ".") { sawDot = true }
                j += 1
            }
            if sawDot {
                // The last thing in the text, in place of two groups.
                guard j == n else { return false }
                var v4: UInt32 = 0
                guard Self.readIPv4(text, i, j, &v4) else { return false }
                if afterGap {
                    push(UInt64(v4 >> 16), &tailCount, &tail)
                    push(UInt64(v4 & 0xFFFF), &tailCount, &tail)
                } else {
                    push(UInt64(v4 >> 16), &headCount, &head)
                    push(UInt64(v4 & 0xFFFF), &headCount, &head)
                }
                i = n
                break
            }
            var k = i
            while k < j {
                let c = text[k]
                let d: UInt8
                if c &- 0x30 < 10 { d = c &- 0x30 } else if (c | 0x20) &- 0x61 < 6 { d = (c | 0x20) &- 0x61 &+ 10 } else { return false }
                group = group << 4 | UInt64(d)
                digits += 1
                k += 1
            }
            guard digits >= 1, digits <= 4 else { return false }
            if afterGap { push(group, &tailCount, &tail) } else { push(group, &headCount, &head) }
            guard headCount + tailCount <= 8 else { return false }
            if j == n { i = n; break }
            // A `:`; a second one right after it is the gap.
            if j + 1 < n && text[j + 1] == UInt8(ascii: ":") {
                guard !afterGap else { return false }
                afterGap = true
                i = j + 2
            } else {
                guard j + 1 < n else { return false }
                i = j + 1
            }
        }
        let total = headCount + tailCount
        guard afterGap ? total <= 7 : total == 8 else { return false }
        // The head's groups sit at the top: shift them up past the gap and the tail.
        var shift = 8 - headCount
        while shift > 0 {
            head.0 = head.0 << 16 | head.1 >> 48
            head.1 = head.1 << 16
            shift -= 1
        }
        hi = head.0 | tail.0
        lo = head.1 | tail.1
        return true
    }
}

/// One named list of address ranges, as `data/address-ranges.txt` (or the
/// operator's `PIXELGATE_ADDRESS_RANGES` file) gives it: where it is
/// published, the version taken, and its ranges, first and last address.
public struct AddressList: Sendable, Equatable {
    public var name: String
    public var source: String
    public var version: String
    public var first: [Address128]
    public var last: [Address128]

    public init(name: String, source: String = "", version: String = "", first: [Address128] = [], last: [Address128] = []) {
        self.name = name
        self.source = source
        self.version = version
        self.first = first
        self.last = last
    }

    /// Sorted by first address, with overlapping and touching ranges made one.
    public var merged: (first: [Address128], last: [Address128]) {
        let order = first.indices.sorted { first[$0] < first[$1] }
        var a: [Address128] = [], b: [Address128] = []
        for i in order {
            if let end = b.last, !(end < first[i]) || end.successor == first[i] {
                if end < last[i] { b[b.count - 1] = last[i] }
            } else {
                a.append(first[i])
                b.append(last[i])
            }
        }
        return (a, b)
    }
}

/// A line of an address-ranges file that is not right, and where.
public struct AddressRangesProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// The text form of address lists:
///
///     # a comment
///     list microsoft-exchange-online
///     source https://endpoints.office.com/endpoints/worldwide?clientrequestid=…
///     version 2025103100
///     40.92.0.0/15
///     2a01:111:f400::/48
///
/// A `list` line starts a list; `source` and `version` describe it; each
/// other line is one range in CIDR form (or one address).
public enum AddressRanges {
    public static func parse(_ text: String) throws(AddressRangesProblem) -> [AddressList] {
        var lists: [AddressList] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = raw.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let word = line.prefix { $0 != " " && $0 != "\t" }
            let rest = String(line.dropFirst(word.count).trimmingSpaces())
            switch word {
            case "list":
                guard !rest.isEmpty, rest.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
                    throw AddressRangesProblem(line: number, message: "a list's name is lowercase letters, digits and '-', not '\(rest)'")
                }
                guard !lists.contains(where: { $0.name == rest }) else {
                    throw AddressRangesProblem(line: number, message: "list '\(rest)' is named twice")
                }
                lists.append(AddressList(name: rest))
            case "source", "version":
                guard !lists.isEmpty else { throw AddressRangesProblem(line: number, message: "'\(word)' before any 'list' line") }
                if word == "source" { lists[lists.count - 1].source = rest } else { lists[lists.count - 1].version = rest }
            default:
                guard !lists.isEmpty else { throw AddressRangesProblem(line: number, message: "a range before any 'list' line") }
                guard rest.isEmpty, let range = range(String(line)) else {
                    throw AddressRangesProblem(line: number, message: "'\(line.prefix(80))' is not an address range (CIDR, like 40.92.0.0/15 or 2a01:111:f400::/48)")
                }
                // IPv4 addresses are kept as ::ffff:a.b.c.d: an IPv6 range
                // reaching into that block would hold IPv4 clients.
                if line.contains(":") && range.first.hi == 0 && range.first.lo <= 0xFFFF_FFFF_FFFF
                    && (range.last.hi > 0 || range.last.lo >= 0xFFFF_0000_0000) {
                    throw AddressRangesProblem(line: number, message: "'\(line.prefix(80))' reaches into the IPv4 addresses (::ffff:0:0/96); write IPv4 ranges as such, like 40.92.0.0/15")
                }
                lists[lists.count - 1].first.append(range.first)
                lists[lists.count - 1].last.append(range.last)
            }
        }
        return lists
    }

    /// A range's prefix length as written (`/15`), from its first and last
    /// address, and whether it is IPv4.
    public static func prefixLength(first: Address128, last: Address128) -> (isIPv4: Bool, bits: Int) {
        let isIPv4 = first.hi == 0 && first.lo >> 32 == 0xFFFF
        let hostBits = last.hi != first.hi ? 128 - (last.hi ^ first.hi).leadingZeroBitCount : 64 - (last.lo ^ first.lo).leadingZeroBitCount
        return (isIPv4, (isIPv4 ? 32 : 128) - hostBits)
    }

    /// A CIDR range's first and last address; nil when it is not one, or
    /// when its address has bits set past its prefix (`10.0.0.1/8`), which
    /// is most often a typo for another range.
    public static func range(_ text: String) -> (first: Address128, last: Address128)? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        var address = Address128(hi: 0, lo: 0)
        let bytes = Array(parts[0].utf8)
        let isIPv4 = !bytes.contains(UInt8(ascii: ":"))
        guard bytes.withUnsafeBufferPointer({ address.read($0) }) else { return nil }
        let maxBits = isIPv4 ? 32 : 128
        var bits = maxBits
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.count <= 3, parts[1].utf8.allSatisfy({ $0 &- 0x30 < 10 }),
                  let b = Int(parts[1]), b <= maxBits else { return nil }
            bits = b
        }
        let hostBits = maxBits - bits
        // The host part's mask over the 128 bits.
        let maskHi: UInt64 = hostBits > 64 ? (hostBits >= 128 ? .max : (1 << UInt64(hostBits - 64)) - 1) : 0
        let maskLo: UInt64 = hostBits >= 64 ? .max : (hostBits == 0 ? 0 : (1 << UInt64(hostBits)) - 1)
        guard address.hi & maskHi == 0, address.lo & maskLo == 0 else { return nil }
        return (address, Address128(hi: address.hi | maskHi, lo: address.lo | maskLo))
    }
}

/// The operator's address lists (`PIXELGATE_ADDRESS_RANGES`) and the
/// classifier they make, built once per process. A class: a configuration
/// without them holds a nil reference, and a CGI start pays nothing for
/// the types of a list it does not have.
public final class OperatorAddressLists: Sendable, Equatable {
    public let lists: [AddressList]
    /// The standard rules with these lists in place of the compiled-in
    /// ones of the same names.
    public let classifier: TrafficClassifier

    public init(_ lists: [AddressList]) {
        self.lists = lists
        classifier = TrafficClassifier(replacingLists: lists)
    }

    public static func == (a: OperatorAddressLists, b: OperatorAddressLists) -> Bool { a.lists == b.lists }
}

/// The address lists the traffic rules name.
public enum AddressLists {
    /// `data/address-ranges.txt` as compiled in (`TrafficTables+Standard.swift`).
    public static var standard: [AddressList] { TrafficClassifier.standard.addressLists }

    /// The names in `lists` that no rule uses: most often a typo, which
    /// would leave the list the rule uses as compiled in.
    public static func unusedNames(_ lists: [AddressList], rules: [TrafficRule] = TrafficRules.all) -> [String] {
        let used = rules.compactMap(\.addressList)
        return lists.map(\.name).filter { !used.contains($0) }
    }
}
