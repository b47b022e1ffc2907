/// The optional settings file: `NAME=value` lines, as for systemd's
/// `EnvironmentFile=`. Blank lines and `#` or `;` comments are skipped, an
/// `export ` prefix is allowed, and one pair of quotes around a value is
/// removed. Files saved on Windows work too: a byte-order mark at the start
/// and CRLF line ends are taken off.
public enum ConfigFile {
    public enum Entry: Equatable {
        case setting(name: String, value: String, line: Int)
        case malformed(line: Int)

        /// The setting's name; nil for a malformed line.
        public var name: String? {
            if case .setting(let name, _, _) = self { return name }
            return nil
        }

        public var line: Int {
            switch self {
            case .setting(_, _, let line), .malformed(let line): return line
            }
        }
    }

    public static func parse(_ text: String) -> [Entry] { parse(bytes: Array(text.utf8)) }

    /// Reads the lines as bytes and makes strings of setting lines alone:
    /// a CGI process reads the file on every hit, and the packaged file is
    /// mostly comments (read as characters, they cost a hit 1.1M
    /// instructions; validated whole as UTF-8, another 60K). A setting
    /// line whose name or value is not UTF-8 is malformed; a comment may
    /// hold any bytes.
    public static func parse(bytes: [UInt8]) -> [Entry] {
        bytes.withUnsafeBufferPointer { parse(buffer: $0) }
    }

    static func parse(buffer bytes: UnsafeBufferPointer<UInt8>) -> [Entry] {
        var entries: [Entry] = []
        var start = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        var lineNumber = 0
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            defer { start = end + 1 }
            var from = start, to = end
            if to > from && bytes[to - 1] == 0x0D { to -= 1 }
            while from < to && isSpace(bytes[from]) { from += 1 }
            while to > from && isSpace(bytes[to - 1]) { to -= 1 }
            if from == to || bytes[from] == UInt8(ascii: "#") || bytes[from] == UInt8(ascii: ";") { continue }
            if to - from > 7 && bytes[from..<(from + 7)].elementsEqual("export ".utf8) {
                from += 7
                while from < to && isSpace(bytes[from]) { from += 1 }
            }
            guard let eq = bytes[from..<to].firstIndex(of: UInt8(ascii: "=")) else {
                entries.append(.malformed(line: lineNumber))
                continue
            }
            var nameEnd = eq
            while nameEnd > from && isSpace(bytes[nameEnd - 1]) { nameEnd -= 1 }
            var valueStart = eq + 1
            while valueStart < to && isSpace(bytes[valueStart]) { valueStart += 1 }
            let name = bytes[from..<nameEnd]
            guard !name.isEmpty, name.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
                entries.append(.malformed(line: lineNumber))
                continue
            }
            var valueEnd = to
            if valueEnd - valueStart >= 2, bytes[valueStart] == UInt8(ascii: "\"") || bytes[valueStart] == UInt8(ascii: "'"),
               bytes[valueEnd - 1] == bytes[valueStart] {
                valueStart += 1
                valueEnd -= 1
            }
            guard let value = String(validating: bytes[valueStart..<valueEnd], as: UTF8.self) else {
                entries.append(.malformed(line: lineNumber))
                continue
            }
            entries.append(.setting(name: String(decoding: name, as: UTF8.self), value: value, line: lineNumber))
        }
        return entries
    }
}
