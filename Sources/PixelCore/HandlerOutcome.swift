/// What the transport should do with a hit: the answer, and a log line.
public struct HandlerOutcome: Sendable, Equatable {
    public var response: PixelResponse
    public var logLevel: LogLevel?
    public var logMessage: String?
    /// The event was kept and the answer is the configured success answer,
    /// the same bytes every time, which a transport may keep ready.
    public var isStoredSuccess = false
    /// The log line is about a refused hit: `PIXELGATE_LOG_REFUSED` may
    /// leave it out.
    public var isRefusal = false
}
