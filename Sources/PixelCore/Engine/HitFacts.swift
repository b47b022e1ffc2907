/// What the server knows about a hit beside its query string.
public struct HitFacts: Sendable, Equatable {
    /// Receive time, milliseconds since the Unix epoch.
    public var receivedAtMillis: Int64
    /// A fresh lowercase UUID, used where the query sets no `messageId`.
    public var messageId: String
    /// The `User-Agent` header, when there was one.
    public var userAgent: String?
    /// The client address as resolved from `REMOTE_ADDR` and trusted proxies.
    public var clientIP: String
    /// The class to write in `context.traffic`, when the hit's class is marked.
    public var traffic: TrafficMark?
    /// False when the visitor asked not to be tracked and the setting says
    /// anonymize: `context.ip` and `context.userAgent` from the query are
    /// left out too (the server's own are left out by the caller).
    public var keepsClientData = true
    /// Addresses are stored shortened: a `context.ip` from the query is
    /// shortened too, and left out when it is no address.
    public var anonymizesAddresses = false
    /// Parameters whose names match are left out of the event.
    public var secretNames = SecretNames.none

    public init(receivedAtMillis: Int64, messageId: String, userAgent: String?, clientIP: String,
                traffic: TrafficMark? = nil, keepsClientData: Bool = true, anonymizesAddresses: Bool = false,
                secretNames: SecretNames = .none) {
        self.receivedAtMillis = receivedAtMillis
        self.messageId = messageId
        self.userAgent = userAgent
        self.clientIP = clientIP
        self.traffic = traffic
        self.keepsClientData = keepsClientData
        self.anonymizesAddresses = anonymizesAddresses
        self.secretNames = secretNames
    }
}

/// `context.traffic`: a hit's class and the rule that gave it. A `bot`
/// also gets the fields RudderStack's own bot enricher writes
/// (`context.isBot`, `context.bot.name` and `.url`), so filters built on
/// those work on pixelgate's events too.
public struct TrafficMark: Sendable, Equatable {
    public var hitClass: HitClass
    /// The rule's id; nil for `human`, which no rule gives.
    public var rule: String?
    /// Where the rule's fact is published, when its source names a page:
    /// `context.bot.url` of a bot.
    public var ruleURL: String?

    public init(hitClass: HitClass, rule: String?, ruleURL: String? = nil) {
        self.hitClass = hitClass
        self.rule = rule
        self.ruleURL = ruleURL
    }
}
