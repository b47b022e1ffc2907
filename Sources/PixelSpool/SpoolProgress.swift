/// The drain's saved place in a sealed file: the offset of the first byte
/// not yet delivered, kept in `.<file>.progress` as decimal digits and a
/// newline.
///
/// The file may be damaged (a full disk, a hand edit, a bad block): every
/// reading of it is checked against the file it belongs to, and a doubt
/// always resolves toward sending again rather than skipping. A resent
/// event carries its `messageId`, which lets the data plane drop the copy.
public struct SpoolProgress: Sendable, Equatable {
    /// Where delivery resumes: 0, the end, or just after a newline.
    public var offset: Int
    /// Set when the saved text could not be taken as it was, for the log.
    public var problem: String?

    /// The resume offset for `content` from the saved `text` (nil when no
    /// progress was saved).
    public static func resolve(_ text: [UInt8]?, content: [UInt8]) -> SpoolProgress {
        guard let text else { return SpoolProgress(offset: 0) }
        let digits = text.prefix { $0 != 0x0A }
        let shown = String(decoding: digits.prefix(40), as: UTF8.self)
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let offset = Int(String(decoding: digits, as: UTF8.self)) else {
            return SpoolProgress(offset: 0, problem: "progress '\(shown)' is not an offset; the file is sent from its start")
        }
        if offset > content.count {
            return SpoolProgress(offset: 0, problem: "progress \(offset) is past the file's end (\(content.count)); the file is sent from its start")
        }
        if offset > 0 && offset < content.count && content[offset - 1] != 0x0A {
            // Mid-line: back to the start of that line, which is resent.
            var start = offset - 1
            while start > 0 && content[start - 1] != 0x0A { start -= 1 }
            return SpoolProgress(offset: start, problem: "progress \(offset) is inside a line; resuming at \(start), the start of that line")
        }
        return SpoolProgress(offset: offset)
    }
}
