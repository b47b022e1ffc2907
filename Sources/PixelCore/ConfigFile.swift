/// The optional settings file: `NAME=value` lines, as for systemd's
/// `EnvironmentFile=`. Blank lines and `#` or `;` comments are skipped, an
/// `export ` prefix is allowed, and one pair of quotes around a value is
/// removed. Files saved on Windows work too: a byte-order mark at the start
/// and CRLF line ends are taken off.
public enum ConfigFile {
    public enum Entry: Equatable {
        case setting(name: String, value: String, line: Int)
        case malformed(line: Int)
    }

    public static func parse(_ text: String) -> [Entry] {
        var entries: [Entry] = []
        var text = Substring(text)
        if text.unicodeScalars.first == "\u{FEFF}" { text = Substring(text.unicodeScalars.dropFirst()) }
        // By scalars: in a String, "\r\n" is one Character, not a "\n".
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
            Substring(String($0.last == "\r" ? $0.dropLast() : $0))
        }
        for (i, rawLine) in lines.enumerated() {
            var line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7).trimmingSpaces() }
            guard let eq = line.firstIndex(of: "=") else { entries.append(.malformed(line: i + 1)); continue }
            let name = line[..<eq].trimmingSpaces()
            var value = line[line.index(after: eq)...].trimmingSpaces()
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                entries.append(.malformed(line: i + 1))
                continue
            }
            if value.count >= 2, let f = value.first, f == "\"" || f == "'", value.last == f {
                value = value.dropFirst().dropLast()
            }
            entries.append(.setting(name: String(name), value: String(value), line: i + 1))
        }
        return entries
    }
}
