/// Standard output and error, written with `write(2)` (Swift 6 rejects the
/// C `stdout` global, and buffered stdio would hold a CGI answer back).
public enum StandardStream: Int32, Sendable {
    case output = 1
    case error = 2

    /// Writes all of `bytes`; a failure (the reader went away) is ignored:
    /// there is nowhere left to say so.
    public func write(_ bytes: [UInt8]) {
        try? Sys.writeAll(rawValue, bytes, rawValue == 1 ? "standard output" : "standard error")
    }

    public func write(_ text: String) { write(Array(text.utf8)) }

    /// Whether the stream is a terminal (progress lines only for people).
    public var isTerminal: Bool { ProcessControl.isTerminal(rawValue) }
}
