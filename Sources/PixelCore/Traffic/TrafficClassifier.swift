/// Classes a hit by the first rule of `TrafficRules.all` that matches it;
/// a hit no rule matches is `human`.
public struct TrafficClassifier: Sendable {
    /// A rule with its text lowercased to bytes once, so that a hit costs
    /// one lowercasing of its user agent and byte comparisons.
    struct Compiled: Sendable {
        let rule: TrafficRule
        let tokens: [[UInt8]]
    }

    let rules: [Compiled]

    public static let standard = TrafficClassifier(rules: TrafficRules.all)

    public init(rules: [TrafficRule]) {
        self.rules = rules.map { rule in
            switch rule.test {
            case .userAgentContains(let tokens): return Compiled(rule: rule, tokens: tokens.map(Self.lowered))
            case .userAgentIs(let agent): return Compiled(rule: rule, tokens: [Self.lowered(agent)])
            case .headerToken(_, let token): return Compiled(rule: rule, tokens: [Self.lowered(token)])
            }
        }
    }

    /// The class of a hit and the rule that gave it (nil for `human`).
    /// `header` gives a request header's value.
    public func classify(header: (HitHeader) -> String?) -> (hitClass: HitClass, rule: TrafficRule?) {
        var agent: [UInt8]?
        for compiled in rules {
            switch compiled.rule.test {
            case .userAgentContains:
                if agent == nil { agent = header(.userAgent).map(Self.lowered) ?? [] }
                if compiled.tokens.contains(where: { Self.contains(agent!, $0) }) { return (compiled.rule.hitClass, compiled.rule) }
            case .userAgentIs:
                if agent == nil { agent = header(.userAgent).map(Self.lowered) ?? [] }
                if Self.trimmed(agent!).elementsEqual(compiled.tokens[0]) { return (compiled.rule.hitClass, compiled.rule) }
            case .headerToken(let name, _):
                if let value = header(name), Self.hasToken(value, compiled.tokens[0]) { return (compiled.rule.hitClass, compiled.rule) }
            }
        }
        return (.human, nil)
    }

    /// The class of a request, by its headers.
    public func classify(_ request: PixelRequest) -> (hitClass: HitClass, rule: TrafficRule?) {
        classify(header: { request.header($0) })
    }

    /// Spaces and tabs off both ends.
    static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var a = 0, b = bytes.count
        while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
        while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
        return bytes[a..<b]
    }

    static func lowered(_ text: String) -> [UInt8] {
        text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }

    /// Whether `needle` occurs in `haystack` (both already lowercased).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        let n = needle.count
        guard n > 0, haystack.count >= n else { return n == 0 }
        let first = needle[0]
        var i = 0
        let last = haystack.count - n
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < n && haystack[i + j] == needle[j] { j += 1 }
                if j == n { return true }
            }
            i += 1
        }
        return false
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
