/// What the transport should do with a hit: the answer, and a log line.
public struct HandlerOutcome: Sendable, Equatable {
    public enum Level: String, Sendable {
        case info, warn, error
    }

    public var response: PixelResponse
    public var logLevel: Level?
    public var logMessage: String?
    /// The event was kept and the answer is the configured success answer,
    /// the same bytes every time, which a transport may keep ready.
    public var isStoredSuccess = false
}
