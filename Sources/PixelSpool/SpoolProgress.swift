/// The drain's saved place in a sealed file, kept in `.<file>.progress`:
///
///     <offset>\n               every line before this offset is delivered
///     +<start>,<start>,…\n     lines past it already delivered (or kept
///     …                        in rejected/), by the offset they start at
///
/// The drain sends one request per write key and address (SPEC §6), so
/// within the window of lines it has read it sends them out of file order;
/// as each request is delivered, the thread that sent it appends that
/// request's line starts, one `write`, and the next window starts the file
/// anew with its offset. A crash therefore resends at most the requests
/// that were in flight.
///
/// The file may be damaged (a full disk, a hand edit, a bad block, a crash
/// in mid-append): every reading of it is checked against the file it
/// belongs to, and a doubt always resolves toward sending again rather
/// than skipping. A journal line without its newline is ignored (its
/// request is resent), as is any start that is not a line's start past the
/// offset. The data plane keeps such a copy unless its deduplication
/// (`Dedup.enableDedup`, off by default) is on: delivery is at least once.
public struct SpoolProgress: Sendable, Equatable {
    /// Where delivery resumes: 0, the end, or just after a newline.
    public var offset: Int
    /// Starts of lines past `offset` already delivered or kept.
    public var done: Set<Int> = []
    /// Set when the saved text could not be taken as it was, for the log.
    public var problem: String?

    public init(offset: Int, done: Set<Int> = [], problem: String? = nil) {
        self.offset = offset
        self.done = done
        self.problem = problem
    }

    /// The resume point for `content` from the saved `text` (nil when no
    /// progress was saved).
    public static func resolve(_ text: [UInt8]?, content: [UInt8]) -> SpoolProgress {
        resolve(text, size: content.count) { content[$0] }
    }

    /// The resume point for a file of `size` bytes, whose byte at an offset
    /// `byte` reads (nil when it cannot), from the saved `text`: only the
    /// bytes just before the offset and before each journaled start are
    /// read, so the file itself need not be.
    public static func resolve(_ text: [UInt8]?, size: Int, byte: (Int) -> UInt8?) -> SpoolProgress {
        guard let text else { return SpoolProgress(offset: 0) }
        let digits = text.prefix { $0 != 0x0A }
        let shown = String(decoding: digits.prefix(40), as: UTF8.self)
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let offset = Int(String(decoding: digits, as: UTF8.self)) else {
            return SpoolProgress(offset: 0, problem: "progress '\(shown)' is not an offset; the file is sent from its start")
        }
        if offset > size {
            return SpoolProgress(offset: 0, problem: "progress \(offset) is past the file's end (\(size)); the file is sent from its start")
        }
        if offset > 0 && offset < size && byte(offset - 1) != 0x0A {
            // Mid-line: back to the start of that line, which is resent.
            var start = offset - 1
            while start > 0 && byte(start - 1) != 0x0A { start -= 1 }
            return SpoolProgress(offset: start, problem: "progress \(offset) is inside a line; resuming at \(start), the start of that line")
        }
        var progress = SpoolProgress(offset: offset)
        progress.readJournal(text[(digits.endIndex + 1 < text.endIndex ? digits.endIndex + 1 : text.endIndex)...], size: size, byte: byte)
        return progress
    }

    /// Takes the `+…` lines after the offset: complete lines only, starts
    /// that begin a line of the file past the offset only.
    mutating func readJournal(_ journal: ArraySlice<UInt8>, size: Int, byte: (Int) -> UInt8?) {
        var ignored = 0
        var lineStart = journal.startIndex
        while let newline = journal[lineStart...].firstIndex(of: 0x0A) {
            let line = journal[lineStart..<newline]
            lineStart = newline + 1
            guard line.first == UInt8(ascii: "+") else {
                ignored += 1
                continue
            }
            for item in line.dropFirst().split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard !item.isEmpty, item.count <= 18, item.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                      let start = Int(String(decoding: item, as: UTF8.self)),
                      start >= offset, start < size, start == 0 || byte(start - 1) == 0x0A else {
                    ignored += 1
                    continue
                }
                done.insert(start)
            }
        }
        if ignored > 0 {
            problem = "progress names \(ignored) line\(ignored == 1 ? "" : "s") it cannot place; what they stood for is sent again"
        }
    }

    /// The first line of a progress file: the offset.
    static func header(_ offset: Int, carrying done: some Sequence<Int>) -> [UInt8] {
        var text = Array("\(offset)\n".utf8)
        let kept = done.filter { $0 >= offset }.sorted()
        if !kept.isEmpty { text += journalLine(kept) }
        return text
    }

    /// One journal line: `+` and the starts, comma-separated, and a newline.
    static func journalLine(_ starts: some Collection<Int>) -> [UInt8] {
        var line: [UInt8] = [UInt8(ascii: "+")]
        line.reserveCapacity(starts.count * 8 + 2)
        for (i, start) in starts.enumerated() {
            if i > 0 { line.append(UInt8(ascii: ",")) }
            line += Array(String(start).utf8)
        }
        line.append(0x0A)
        return line
    }
}
