/// The data plane's test of whether an id says anything (SPEC §3).
///
/// RudderStack's gateway refuses a whole batch when an event's
/// `anonymousId` and `userId` are both empty once it has removed every
/// character that prints nothing (its `sanitize.Unicode`: control, format,
/// private-use, unassigned and separator characters other than the ASCII
/// space, plus a list of invisible letters and marks) and trimmed white
/// space. pixelgate refuses such a hit at once, so that no accepted event can
/// sink a batch later.
public enum Identity {
    /// Whether nothing is left of `text` (valid UTF-8) after that clean-up.
    public static func isBlank(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        // Nearly every id has a printable ASCII character: no decoding then.
        for b in text where b > 0x20 && b < 0x7F { return false }
        var iterator = text.makeIterator()
        var decoder = UTF8()
        while case .scalarValue(let scalar) = decoder.decode(&iterator) {
            if scalar != " " && !isInvisible(scalar) { return false }
        }
        return true
    }

    public static func isBlank(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isBlank($0) }
    }

    /// Removed by the clean-up: anything Go's `unicode.IsPrint` rejects
    /// (every category but letters, marks, numbers, punctuation and
    /// symbols; the ASCII space is kept) and the invisible characters that
    /// those categories let through.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        if invisibleOthers.contains(scalar.value) { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return true
        default:
            return false
        }
    }

    /// Letters, marks and symbols that print nothing: the combining
    /// grapheme joiner, Hangul fillers, Khmer inherent vowels, the blank
    /// Braille pattern (rudder-go-kit's list, less what the categories cover).
    static let invisibleOthers: Set<UInt32> = [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0]
}
