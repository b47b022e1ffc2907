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

    public init(receivedAtMillis: Int64, messageId: String, userAgent: String?, clientIP: String) {
        self.receivedAtMillis = receivedAtMillis
        self.messageId = messageId
        self.userAgent = userAgent
        self.clientIP = clientIP
    }
}
