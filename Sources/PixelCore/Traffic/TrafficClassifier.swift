/// Classes a hit by the first rule of `TrafficRules.all` that matches it;
/// a hit no rule matches is `human`.
///
/// It runs on every hit, and most hits are people's browsers, which match
/// no rule: so the user agent is read once, in place, without a copy. Each
/// position's two bytes (ASCII case folded) pick the few tokens that start
/// with them from a small table, and only those are compared. The rule
/// with the lowest index among everything that matched wins.
public struct TrafficClassifier: Sendable {
    /// A rule's text, lowercased: a `userAgentContains` token, a
    /// `userAgentIs` agent (`exact`) or a `headerToken` token (`header`).
    /// One type for all three: a CGI process builds this table for its one
    /// hit, and each array type it makes costs that process its metadata.
    struct Token: Sendable {
        let rule: Int
        let header: HitHeader
        let exact: Bool
        let bytes: [UInt8]
    }

    let rules: [TrafficRule]
    /// `userAgentContains` tokens sorted by the bucket of their first two
    /// bytes (`bucket`); bucket `b`'s are
    /// `tokens[bucketStart[b]..<bucketStart[b + 1]]`. One flat array, so
    /// that a byte that starts nothing costs a lookup.
    let tokens: [Token]
    let bucketStart: [Int32]
    /// A bit for each pair of folded bytes some token starts with: almost
    /// every position of a browser's agent is passed over on one lookup.
    let startsToken: [UInt64]
    /// `userAgentIs` and `headerToken` rules, in rule order.
    let others: [Token]

    static let bucketCount = 512

    public static let standard = TrafficClassifier(rules: TrafficRules.all)

    public init(rules: [TrafficRule]) {
        self.rules = rules
        var found: [Token] = []
        var others: [Token] = []
        found.reserveCapacity(4 * rules.count)
        others.reserveCapacity(rules.count)
        var startsToken = [UInt64](repeating: 0, count: 65_536 / 64)
        var counts = [Int32](repeating: 0, count: Self.bucketCount + 1)
        for (index, rule) in rules.enumerated() {
            switch rule.test {
            case .userAgentContains(let texts):
                for text in texts {
                    let token = Self.lowered(text)
                    // One-byte tokens have no second byte: every bucket of
                    // their first byte would have to hold them. None exist.
                    precondition(token.count >= 2, "a user-agent token has at least two bytes")
                    found.append(Token(rule: index, header: .userAgent, exact: false, bytes: token))
                    counts[Self.bucket(token[0], token[1]) + 1] += 1
                    let pair = Int(token[0]) << 8 | Int(token[1])
                    startsToken[pair >> 6] |= 1 << UInt64(pair & 63)
                }
            case .userAgentIs(let agent):
                others.append(Token(rule: index, header: .userAgent, exact: true, bytes: Self.lowered(agent)))
            case .headerToken(let header, let token):
                others.append(Token(rule: index, header: header, exact: false, bytes: Self.lowered(token)))
            }
        }
        // A counting sort by bucket, stable, so rule order holds within one.
        for b in 0..<Self.bucketCount { counts[b + 1] += counts[b] }
        bucketStart = counts
        var next = counts
        var order = [Int](repeating: 0, count: found.count)
        for (i, token) in found.enumerated() {
            let b = Self.bucket(token.bytes[0], token.bytes[1])
            order[Int(next[b])] = i
            next[b] += 1
        }
        tokens = order.map { found[$0] }
        self.startsToken = startsToken
        self.others = others
    }

    @inline(__always)
    static func fold(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    @inline(__always)
    static func bucket(_ a: UInt8, _ b: UInt8) -> Int { (Int(a) &* 31 &+ Int(b)) & (bucketCount - 1) }

    /// A hit's class and the rule that gave it. A plain struct of plain
    /// fields: an optional rule or a tuple would make a CGI process, which
    /// classes one hit and exits, instantiate their types' metadata first.
    public struct Verdict: Sendable, Equatable {
        public let hitClass: HitClass
        /// The rule's id (`context.traffic.rule`); empty when none matched.
        public let ruleID: String

        public static let unclassified = Verdict(hitClass: .human, ruleID: "")
    }

    /// The class of a hit and the rule that gave it (none for `human` when
    /// no rule named it). `header` gives a request header's value.
    public func classify(header: (HitHeader) -> String?) -> Verdict {
        var best = Int.max
        for entry in others where !entry.exact && entry.rule < best {
            if let value = header(entry.header), Self.hasToken(value, entry.bytes) { best = entry.rule }
        }
        if var agent = header(.userAgent), !agent.isEmpty {
            best = agent.withUTF8 { matchAgent($0, below: best) }
        }
        guard best < rules.count else { return .unclassified }
        return Verdict(hitClass: rules[best].hitClass, ruleID: rules[best].id)
    }

    /// The lowest rule index under `limit` whose test the agent passes.
    func matchAgent(_ agent: UnsafeBufferPointer<UInt8>, below limit: Int) -> Int {
        var best = limit
        let trimmed = Self.trimmed(agent)
        for entry in others where entry.exact && entry.rule < best && Self.equalFolded(trimmed, entry.bytes) { best = entry.rule }
        let n = agent.count
        if n < 2 { return best }
        startsToken.withUnsafeBufferPointer { startsToken in
            bucketStart.withUnsafeBufferPointer { bucketStart in
                tokens.withUnsafeBufferPointer { tokens in
                    var i = 0
                    var second = Self.fold(agent[0])
                    while i < n &- 1 {
                        // Each byte folded once: it is the second of one pair, then the first of the next.
                        let first = second
                        second = Self.fold(agent[i &+ 1])
                        let pair = Int(first) << 8 | Int(second)
                        if startsToken[pair >> 6] & (1 << UInt64(pair & 63)) != 0 {
                            let bucket = Self.bucket(first, second)
                            var t = Int(bucketStart[bucket])
                            let end = Int(bucketStart[bucket &+ 1])
                            while t < end {
                                if tokens[t].rule < best && Self.startsFolded(agent, at: i, tokens[t].bytes) { best = tokens[t].rule }
                                t &+= 1
                            }
                        }
                        i &+= 1
                    }
                }
            }
        }
        return best
    }

    /// The page a rule's source names (`TrafficRule.url`), for
    /// `context.bot.url`; looked up only for a bot that is marked.
    public func url(ofRule id: String) -> String? {
        rules.first { $0.id == id }?.url
    }

    /// The class of a request, by its headers.
    public func classify(_ request: PixelRequest) -> Verdict {
        classify(header: { request.header($0) })
    }

    @inline(__always)
    static func startsFolded(_ haystack: UnsafeBufferPointer<UInt8>, at start: Int, _ needle: [UInt8]) -> Bool {
        guard haystack.count &- start >= needle.count else { return false }
        var j = 0
        while j < needle.count {
            if fold(haystack[start &+ j]) != needle[j] { return false }
            j &+= 1
        }
        return true
    }

    static func equalFolded(_ a: Slice<UnsafeBufferPointer<UInt8>>, _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { fold($0) == $1 }
    }

    /// Spaces and tabs off both ends.
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var a = 0, b = bytes.count
        while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
        while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
        return bytes[a..<b]
    }

    static func lowered(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { source in
            [UInt8](unsafeUninitializedCapacity: source.count) { out, count in
                for i in 0..<source.count { out[i] = fold(source[i]) }
                count = source.count
            }
        }
    }

    /// Whether a header's list (`a, b;c`) holds `token` (lowercased), in any case.
    static func hasToken(_ value: String, _ token: [UInt8]) -> Bool {
        let bytes = lowered(value)
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ",") && bytes[end] != UInt8(ascii: ";") { end += 1 }
            var a = start, b = end
            while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
            while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
            if b - a == token.count && bytes[a..<b].elementsEqual(token) { return true }
            start = end + 1
        }
        return false
    }
}
