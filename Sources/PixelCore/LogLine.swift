/// The one log line format: `2026-11-27T13:26:12.345Z pixelgate[42] warn: message`.
///
/// Web servers keep the responder's stderr in their error log; one line per
/// event with a fixed prefix keeps it greppable. Newlines in the message are
/// flattened so that a client cannot forge log lines.
public enum LogLine {
    public static func format(millis: Int64, pid: Int32, level: String, message: String) -> [UInt8] {
        var out = Array("\(ISO8601.format(millis: millis)) pixelgate[\(pid)] \(level): ".utf8)
        for b in message.utf8 {
            out.append(b == 0x0A || b == 0x0D ? UInt8(ascii: " ") : b)
        }
        out.append(0x0A)
        return out
    }

    /// The same message for a person at a terminal, as `git` writes one:
    /// `pixelgate: warning: message`, no time and no process id (an
    /// `info` line is the message alone after `pixelgate: `).
    public static func forTerminal(level: LogLevel, message: String) -> [UInt8] {
        let word: String
        switch level {
        case .debug: word = "debug: "
        case .info: word = ""
        case .warn: word = "warning: "
        case .error: word = "error: "
        }
        var out = Array("pixelgate: \(word)".utf8)
        for b in message.utf8 {
            out.append(b == 0x0A || b == 0x0D ? UInt8(ascii: " ") : b)
        }
        out.append(0x0A)
        return out
    }
}
