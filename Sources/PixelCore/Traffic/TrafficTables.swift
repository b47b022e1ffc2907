/// The classifier's tables (`TrafficClassifier`), flat arrays of plain
/// integers, in one object (a classifier copied, as every hit's handler
/// does, retains one reference rather than each of its arrays): those of
/// `TrafficRules.all` are written out as literals in
/// `TrafficTables+Standard.swift`, which the compiler lays out in the
/// binary, so a process pays nothing to build them. A test makes that file
/// from the rules with `init(rules:)` and fails when the two differ.
final class TrafficTables: Sendable, Equatable {
    /// A bit for each pair of folded bytes some `userAgentContains` token
    /// starts with: almost every position of a browser's agent is passed
    /// over on one lookup.
    let startsToken: [UInt64]
    /// The tokens sorted by the bucket of their first two bytes
    /// (`TrafficClassifier.bucket`); bucket `b`'s are
    /// `bucketStart[b]..<bucketStart[b + 1]`.
    let bucketStart: [Int32]
    /// Token `k`'s rule, and its bytes (lowercased):
    /// `tokenBytes[tokenStart[k]..<tokenStart[k + 1]]`.
    let tokenRule: [Int32]
    let tokenStart: [Int32]
    /// Every token's bytes, `userAgentContains` tokens first, then the
    /// others'.
    let tokenBytes: [UInt8]
    /// `userAgentIs` (`otherExact` 1) and `headerToken` rules, in rule
    /// order: the header (its index in `HitHeader.allCases`) and the text,
    /// `tokenBytes[otherStart[o]..<otherStart[o + 1]]`.
    let otherRule: [Int32]
    let otherHeader: [UInt8]
    let otherExact: [UInt8]
    let otherStart: [Int32]
    /// Each rule's id and class (its index in `HitClass.allCases`).
    let ruleIDs: [String]
    let ruleClassSlots: [UInt8]
    /// Each rule's page (`TrafficRule.url`, for `context.bot.url`), empty
    /// for none: found once, here, not in a rule's source text at every
    /// bot's hit (by `Character`, that was a tenth of a `serve` worker's
    /// time under a load of scripts).
    let ruleURLs: [String]
    /// The address rules (`addressIn`), five numbers each: the rule, its
    /// ranges' first and end index in `ranges`, and its summary's in
    /// `rangeSummary`.
    let addressSegments: [Int32]
    /// Each range, sorted and merged within its list, as four words: its
    /// first address (high, low 64 bits) and its last.
    let ranges: [UInt64]
    /// Every `summaryStride`th range's first address (two words), per
    /// segment: a search reads the summary, then one block of ranges, and
    /// so touches two or three pages of a large list rather than one a
    /// step (a CGI process pays a page fault for each page it reads).
    let rangeSummary: [UInt64]
    static let summaryStride = 32
    /// The lowest rule index that reads the address (`Int.max` for none):
    /// a hit a lower rule already classed is not looked up.
    let firstAddressRule: Int

    init(startsToken: [UInt64], bucketStart: [Int32], tokenRule: [Int32], tokenStart: [Int32], tokenBytes: [UInt8],
         otherRule: [Int32], otherHeader: [UInt8], otherExact: [UInt8], otherStart: [Int32],
         ruleIDs: [String], ruleClassSlots: [UInt8], ruleURLs: [String],
         addressSegments: [Int32], ranges: [UInt64], rangeSummary: [UInt64]) {
        self.startsToken = startsToken
        self.bucketStart = bucketStart
        self.tokenRule = tokenRule
        self.tokenStart = tokenStart
        self.tokenBytes = tokenBytes
        self.otherRule = otherRule
        self.otherHeader = otherHeader
        self.otherExact = otherExact
        self.otherStart = otherStart
        self.ruleIDs = ruleIDs
        self.ruleClassSlots = ruleClassSlots
        self.ruleURLs = ruleURLs
        self.addressSegments = addressSegments
        self.ranges = ranges
        self.rangeSummary = rangeSummary
        var lowest = Int.max
        for a in stride(from: 0, to: addressSegments.count, by: 5) { lowest = min(lowest, Int(addressSegments[a])) }
        firstAddressRule = lowest
    }

    /// The tables of `rules`, whose address rules take their ranges from
    /// `lists` (`addressSegments(rules:lists:)`).
    convenience init(rules: [TrafficRule], lists: [AddressList]) {
        var found: [(rule: Int, bytes: [UInt8])] = []
        var others: [(rule: Int, header: HitHeader, exact: Bool, bytes: [UInt8])] = []
        var startsToken = [UInt64](repeating: 0, count: 65_536 / 64)
        var counts = [Int32](repeating: 0, count: TrafficClassifier.bucketCount + 1)
        for (index, rule) in rules.enumerated() {
            switch rule.test {
            case .userAgentContains(let texts):
                for text in texts {
                    let token = TrafficClassifier.lowered(text)
                    // One-byte tokens have no second byte: every bucket of
                    // their first byte would have to hold them. None exist.
                    precondition(token.count >= 2, "a user-agent token has at least two bytes")
                    found.append((index, token))
                    counts[TrafficClassifier.bucket(token[0], token[1]) + 1] += 1
                    let pair = Int(token[0]) << 8 | Int(token[1])
                    startsToken[pair >> 6] |= 1 << UInt64(pair & 63)
                }
            case .userAgentIs(let agent):
                others.append((index, .userAgent, true, TrafficClassifier.lowered(agent)))
            case .userAgentMissing:
                // The agent, trimmed, is exactly nothing.
                others.append((index, .userAgent, true, []))
            case .headerToken(let header, let token):
                others.append((index, header, false, TrafficClassifier.lowered(token)))
            case .addressIn:
                break
            }
        }
        // A counting sort by bucket, stable, so rule order holds within one.
        for b in 0..<TrafficClassifier.bucketCount { counts[b + 1] += counts[b] }
        var next = counts
        var order = [Int](repeating: 0, count: found.count)
        for (i, token) in found.enumerated() {
            let b = TrafficClassifier.bucket(token.bytes[0], token.bytes[1])
            order[Int(next[b])] = i
            next[b] += 1
        }
        var bytes: [UInt8] = []
        var starts: [Int32] = []
        for i in order {
            starts.append(Int32(bytes.count))
            bytes += found[i].bytes
        }
        starts.append(Int32(bytes.count))
        var otherStart: [Int32] = []
        for other in others {
            otherStart.append(Int32(bytes.count))
            bytes += other.bytes
        }
        otherStart.append(Int32(bytes.count))
        var segments: [Int32] = []
        var ranges: [UInt64] = [], summary: [UInt64] = []
        for segment in Self.addressSegments(rules: rules, lists: lists) {
            let (first, last) = segment.list.merged
            segments += [Int32(segment.rule), Int32(ranges.count / 4), Int32(ranges.count / 4 + first.count),
                         Int32(summary.count / 2), Int32(summary.count / 2 + (first.count + Self.summaryStride - 1) / Self.summaryStride)]
            for i in first.indices { ranges += [first[i].hi, first[i].lo, last[i].hi, last[i].lo] }
            for i in stride(from: 0, to: first.count, by: Self.summaryStride) { summary += [first[i].hi, first[i].lo] }
        }
        self.init(startsToken: startsToken, bucketStart: counts, tokenRule: order.map { Int32(found[$0].rule) },
                  tokenStart: starts, tokenBytes: bytes,
                  otherRule: others.map { Int32($0.rule) },
                  otherHeader: others.map { UInt8(HitHeader.allCases.firstIndex(of: $0.header)!) },
                  otherExact: others.map { $0.exact ? 1 : 0 }, otherStart: otherStart,
                  ruleIDs: rules.map(\.id), ruleClassSlots: rules.map { UInt8($0.hitClass.slot) },
                  ruleURLs: rules.map { $0.url ?? "" },
                  addressSegments: segments, ranges: ranges, rangeSummary: summary)
    }

    /// The address rules of `rules` with their lists (by name; a rule
    /// whose list is not in `lists` gets an empty one, and matches no
    /// address: `AddressLists.unusedNames` and the tests see to it), in
    /// rule order.
    static func addressSegments(rules: [TrafficRule], lists: [AddressList]) -> [(rule: Int, list: AddressList)] {
        rules.enumerated().compactMap { index, rule in
            rule.addressList.map { name in (index, lists.first { $0.name == name } ?? AddressList(name: name)) }
        }
    }

    static func == (a: TrafficTables, b: TrafficTables) -> Bool {
        a.startsToken == b.startsToken && a.bucketStart == b.bucketStart && a.tokenRule == b.tokenRule && a.tokenStart == b.tokenStart
            && a.tokenBytes == b.tokenBytes && a.otherRule == b.otherRule && a.otherHeader == b.otherHeader && a.otherExact == b.otherExact
            && a.otherStart == b.otherStart && a.ruleIDs == b.ruleIDs && a.ruleClassSlots == b.ruleClassSlots
            && a.ruleURLs == b.ruleURLs
            && a.addressSegments == b.addressSegments && a.ranges == b.ranges && a.rangeSummary == b.rangeSummary
    }
}
