/// `PIXELGATE_DERIVE_ANONYMOUS_ID=daily` (SPEC §8): an `anonymousId` for a
/// hit that has none, in the way of Plausible's and PostHog's cookieless
/// counting: a keyed hash of the site (the write key), the client's
/// address and its user agent, under a secret the spool makes at random
/// each day and forgets the next. The same visitor on the same site has the
/// same id all day; the next day, on another site, or from another address
/// or browser, another. Nothing in it can be turned back into the address
/// or the agent, and with the day's secret gone nobody can link the days.
public enum DerivedAnonymousId {
    /// What the setting can say.
    public enum Mode: String, Sendable, CaseIterable {
        case off, daily
    }

    /// The id for one hit: HMAC-SHA256 under the day's secret, its first 16
    /// bytes written as a UUID's 36 characters (`8-4-4-4-12` hex), the shape
    /// RudderStack's SDKs give `anonymousId`.
    public static func make(secret: [UInt8], writeKey: String, clientAddress: String, userAgent: String?) -> String {
        var message: [UInt8] = []
        message.append(contentsOf: writeKey.utf8)
        message.append(0)
        message.append(contentsOf: clientAddress.utf8)
        message.append(0)
        message.append(contentsOf: (userAgent ?? "").utf8)
        let digest = SHA256.hmac(key: secret, message: message)
        let hex = SHA256.hex(Array(digest.prefix(16)))
        var out = ""
        for (i, c) in hex.enumerated() {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append("-") }
            out.append(c)
        }
        return out
    }

    /// What stands in for the id through the checks, before the day's
    /// secret is fetched for a hit that will be stored.
    public static let placeholder = "00000000-0000-0000-0000-000000000000"

    /// Days since the epoch (UTC) at `millis`: the secret's day.
    public static func day(ofMillis millis: Int64) -> Int64 {
        millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000
    }
}
