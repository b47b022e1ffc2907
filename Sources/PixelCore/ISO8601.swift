/// Formats instants as RudderStack does: `2026-11-27T13:26:12.345Z`.
public enum ISO8601 {
    /// The UTC time of `millis` (since the Unix epoch) with milliseconds.
    public static func format(millis: Int64) -> String {
        String(unsafeUninitializedCapacity: 24) { buffer in
            write(millis: millis, into: buffer.baseAddress!)
            return 24
        }
    }

    /// Writes the 24 bytes of `format(millis:)` at `out`.
    static func write(millis: Int64, into out: UnsafeMutablePointer<UInt8>) {
        let ms = Int(((millis % 1000) + 1000) % 1000)
        let totalSeconds = (millis - Int64(ms)) / 1000
        var days = totalSeconds / 86_400
        var secondsOfDay = totalSeconds % 86_400
        if secondsOfDay < 0 { secondsOfDay += 86_400; days -= 1 }
        let (y, m, d) = civilDate(daysSinceEpoch: days)
        func digits(_ at: Int, _ value: Int, _ width: Int) {
            var v = value
            for i in stride(from: at + width - 1, through: at, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            }
        }
        digits(0, Int(y), 4); out[4] = UInt8(ascii: "-")
        digits(5, m, 2); out[7] = UInt8(ascii: "-")
        digits(8, d, 2); out[10] = UInt8(ascii: "T")
        digits(11, Int(secondsOfDay / 3600), 2); out[13] = UInt8(ascii: ":")
        digits(14, Int(secondsOfDay % 3600 / 60), 2); out[16] = UInt8(ascii: ":")
        digits(17, Int(secondsOfDay % 60), 2); out[19] = UInt8(ascii: ".")
        digits(20, ms, 3); out[23] = UInt8(ascii: "Z")
    }

    /// Milliseconds since the epoch of a `format(millis:)` string, or nil.
    public static func parse(_ text: Substring) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 24, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x2E, b[23] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int64? { ClientTime.number(b, range) }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10), let hh = number(11..<13),
              let mm = number(14..<16), let ss = number(17..<19), let ms = number(20..<23),
              let start = ClientTime.civil(year: y, month: m, day: d, hour: hh, minute: mm, second: ss) else { return nil }
        return start + ms
    }

    /// A compact form for file names: `20261127T132612.345Z`.
    public static func compact(millis: Int64) -> String {
        var s = format(millis: millis)
        s.removeAll { $0 == "-" || $0 == ":" }
        return s
    }

    /// Gregorian year, month and day of a day count from 1970-01-01, by the
    /// era-based method (400-year cycles of 146,097 days).
    static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int, Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
