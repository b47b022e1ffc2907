/// How much a log line matters: pixelgate's one scale, for hits, the
/// spool, the drain and the server alike.
public enum LogLevel: String, Sendable {
    case info, warn, error
}
