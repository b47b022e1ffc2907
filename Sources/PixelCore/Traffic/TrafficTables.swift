/// The classifier's tables (`TrafficClassifier`), flat arrays of plain
/// integers: those of `TrafficRules.all` are written out as literals in
/// `TrafficTables+Standard.swift`, which the compiler lays out in the
/// binary, so a process pays nothing to build them. A test makes that file
/// from the rules with `init(rules:)` and fails when the two differ.
struct TrafficTables: Sendable, Equatable {
    /// A bit for each pair of folded bytes some `userAgentContains` token
    /// starts with: almost every position of a browser's agent is passed
    /// over on one lookup.
    var startsToken: [UInt64]
    /// The tokens sorted by the bucket of their first two bytes
    /// (`TrafficClassifier.bucket`); bucket `b`'s are
    /// `bucketStart[b]..<bucketStart[b + 1]`.
    var bucketStart: [Int32]
    /// Token `k`'s rule, and its bytes (lowercased):
    /// `tokenBytes[tokenStart[k]..<tokenStart[k + 1]]`.
    var tokenRule: [Int32]
    var tokenStart: [Int32]
    /// Every token's bytes, `userAgentContains` tokens first, then the
    /// others'.
    var tokenBytes: [UInt8]
    /// `userAgentIs` (`otherExact` 1) and `headerToken` rules, in rule
    /// order: the header (its index in `HitHeader.allCases`) and the text,
    /// `tokenBytes[otherStart[o]..<otherStart[o + 1]]`.
    var otherRule: [Int32]
    var otherHeader: [UInt8]
    var otherExact: [UInt8]
    var otherStart: [Int32]
    /// Each rule's id and class (its index in `HitClass.allCases`).
    var ruleIDs: [String]
    var ruleClassSlots: [UInt8]

    init(startsToken: [UInt64], bucketStart: [Int32], tokenRule: [Int32], tokenStart: [Int32], tokenBytes: [UInt8],
         otherRule: [Int32], otherHeader: [UInt8], otherExact: [UInt8], otherStart: [Int32],
         ruleIDs: [String], ruleClassSlots: [UInt8]) {
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
    }

    init(rules: [TrafficRule]) {
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
        self.init(startsToken: startsToken, bucketStart: counts, tokenRule: order.map { Int32(found[$0].rule) },
                  tokenStart: starts, tokenBytes: bytes,
                  otherRule: others.map { Int32($0.rule) },
                  otherHeader: others.map { UInt8(HitHeader.allCases.firstIndex(of: $0.header)!) },
                  otherExact: others.map { $0.exact ? 1 : 0 }, otherStart: otherStart,
                  ruleIDs: rules.map(\.id), ruleClassSlots: rules.map { UInt8($0.hitClass.slot) })
    }
}
