/// Classes a hit by the first rule of `TrafficRules.all` that matches it;
/// a hit no rule matches is `human`.
///
/// It runs on every hit, and most hits are people's browsers, which match
/// no rule: so the user agent is read once, in place, without a copy. Each
/// position's two bytes (ASCII case folded) pick the few tokens that start
/// with them from a small table, and only those are compared. The rule
/// with the lowest index among everything that matched wins.
public struct TrafficClassifier: Sendable {
    /// A token of a `userAgentContains` rule.
    struct Token: Sendable {
        let rule: Int
        /// Lowercased.
        let bytes: [UInt8]
    }

    let rules: [TrafficRule]
    /// Tokens sorted by the bucket of their first two bytes (`bucket`);
    /// bucket `b`'s are `tokens[bucketStart[b]..<bucketStart[b + 1]]`.
    /// One flat array, so that a byte that starts nothing costs a lookup.
    let tokens: [Token]
    let bucketStart: [Int32]
    /// A bit for each pair of folded bytes some token starts with: almost
    /// every position of a browser's agent is passed over on one lookup.
    let startsToken: [UInt64]
    /// `userAgentIs` rules: index and lowercased agent.
    let exact: [(rule: Int, agent: [UInt8])]
    /// `headerToken` rules: index, header and lowercased token.
    let headerTokens: [(rule: Int, header: HitHeader, token: [UInt8])]

    static let bucketCount = 512

    public static let standard = TrafficClassifier(rules: TrafficRules.all)

    public init(rules: [TrafficRule]) {
        self.rules = rules
        var buckets = [[Token]](repeating: [], count: Self.bucketCount)
        var startsToken = [UInt64](repeating: 0, count: 65_536 / 64)
        var exact: [(Int, [UInt8])] = []
        var headerTokens: [(Int, HitHeader, [UInt8])] = []
        for (index, rule) in rules.enumerated() {
            switch rule.test {
            case .userAgentContains(let tokens):
                for token in tokens.map(Self.lowered) where !token.isEmpty {
                    // One-byte tokens have no second byte: every bucket of
                    // their first byte would have to hold them. None exist.
                    precondition(token.count >= 2, "a user-agent token has at least two bytes")
                    buckets[Self.bucket(token[0], token[1])].append(Token(rule: index, bytes: token))
                    let pair = Int(token[0]) << 8 | Int(token[1])
                    startsToken[pair >> 6] |= 1 << UInt64(pair & 63)
                }
            case .userAgentIs(let agent): exact.append((index, Self.lowered(agent)))
            case .headerToken(let header, let token): headerTokens.append((index, header, Self.lowered(token)))
            }
        }
        tokens = buckets.flatMap { $0 }
        var starts: [Int32] = [0]
        for bucket in buckets { starts.append(starts.last! + Int32(bucket.count)) }
        bucketStart = starts
        self.startsToken = startsToken
        self.exact = exact
        self.headerTokens = headerTokens
    }

    @inline(__always)
    static func fold(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    @inline(__always)
    static func bucket(_ a: UInt8, _ b: UInt8) -> Int { (Int(a) &* 31 &+ Int(b)) & (bucketCount - 1) }

    /// The class of a hit and the rule that gave it (nil for `human` when
    /// no rule named it). `header` gives a request header's value.
    public func classify(header: (HitHeader) -> String?) -> (hitClass: HitClass, rule: TrafficRule?) {
        var best = Int.max
        for entry in headerTokens where entry.rule < best {
            if let value = header(entry.header), Self.hasToken(value, entry.token) { best = entry.rule }
        }
        if var agent = header(.userAgent), !agent.isEmpty {
            best = agent.withUTF8 { matchAgent($0, below: best) }
        }
        guard best < rules.count else { return (.human, nil) }
        return (rules[best].hitClass, rules[best])
    }

    /// The lowest rule index under `limit` whose test the agent passes.
    func matchAgent(_ agent: UnsafeBufferPointer<UInt8>, below limit: Int) -> Int {
        var best = limit
        let trimmed = Self.trimmed(agent)
        for entry in exact where entry.rule < best && Self.equalFolded(trimmed, entry.agent) { best = entry.rule }
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

    /// The class of a request, by its headers.
    public func classify(_ request: PixelRequest) -> (hitClass: HitClass, rule: TrafficRule?) {
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
        text.utf8.map(fold)
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
