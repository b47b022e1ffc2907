/// One line of the classification table (`TrafficRules`): a test on a
/// hit's headers, the class it gives, and where the fact that
/// makes it right is published, so an operator can see why a hit was classed.
public struct TrafficRule: Sendable {
    /// What a rule looks at. Text is compared without regard to ASCII case.
    public enum Test: Sendable {
        /// The user agent contains one of these.
        case userAgentContains([String])
        /// The user agent is exactly this, nothing before or after.
        case userAgentIs(String)
        /// No user agent, or one of spaces only: every browser sends one.
        case userAgentMissing
        /// The header holds this token in its list (`Sec-Purpose:
        /// prefetch;prerender` holds `prefetch`).
        case headerToken(HitHeader, String)
        /// The address the hit came from (after `PIXELGATE_TRUSTED_PROXIES`,
        /// before `PIXELGATE_ANONYMIZE_IP`) is in the named address list
        /// (`data/address-ranges.txt`, or the operator's
        /// `PIXELGATE_ADDRESS_RANGES`).
        case addressIn(String)
    }

    /// Stable, short, lowercase: what `context.traffic.rule` says.
    public let id: String
    public let hitClass: HitClass
    public let test: Test
    /// Where the user agent or header is documented.
    public let source: String

    public init(_ id: String, _ hitClass: HitClass, _ test: Test, source: String) {
        self.id = id
        self.hitClass = hitClass
        self.test = test
        self.source = source
    }

    /// The first http(s) address in `source`, up to a space, `)`, `,` or
    /// `;`: where the rule's fact is published (`context.bot.url`).
    public var url: String? {
        guard let start = source.firstOccurrence(of: "https://") ?? source.firstOccurrence(of: "http://") else { return nil }
        let url = source[start.lowerBound...].prefix { !" ),;`".contains($0) }
        return url.count > 8 ? String(url) : nil
    }

    /// The address list the test reads, if any.
    public var addressList: String? {
        if case .addressIn(let list) = test { return list }
        return nil
    }

    /// The test as docs/traffic.md's table shows it.
    public var testDescription: String {
        switch test {
        case .userAgentContains(let tokens): return "User-Agent contains " + tokens.map { "`\($0)`" }.joined(separator: " or ")
        case .userAgentIs(let agent): return "User-Agent is exactly `\(agent)`"
        case .userAgentMissing: return "no User-Agent, or an empty one"
        case .headerToken(let header, let token): return "`\(header.rawValue)` has `\(token)`"
        case .addressIn(let list): return "the client address is in the list `\(list)` (data/address-ranges.txt)"
        }
    }
}

/// The request headers classification reads, besides the user agent.
public enum HitHeader: String, Sendable, CaseIterable {
    case userAgent = "User-Agent"
    case secPurpose = "Sec-Purpose"
    case purpose = "Purpose"
    case xMoz = "X-Moz"
    case xPurpose = "X-Purpose"

    /// The header at `index` of `allCases`, by a switch: `allCases` builds
    /// an array each time, and a hit reads several.
    init(index: UInt8) {
        switch index {
        case 0: self = .userAgent
        case 1: self = .secPurpose
        case 2: self = .purpose
        case 3: self = .xMoz
        default: self = .xPurpose
        }
    }
}
