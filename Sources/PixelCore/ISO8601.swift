/// Formats instants as RudderStack does: `2026-11-27T13:26:12.345Z`.
public enum ISO8601 {
    /// The UTC time of `millis` (since the Unix epoch) with milliseconds.
    public static func format(millis: Int64) -> String {
        var out = [UInt8]()
        write(millis: millis, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the 24 bytes of `format(millis:)` to `out`.
    static func write(millis: Int64, into out: inout [UInt8]) {
        let ms = Int(((millis % 1000) + 1000) % 1000)
        let totalSeconds = (millis - Int64(ms)) / 1000
        var days = totalSeconds / 86_400
        var secondsOfDay = totalSeconds % 86_400
        if secondsOfDay < 0 { secondsOfDay += 86_400; days -= 1 }
        let (y, m, d) = civilDate(daysSinceEpoch: days)
        appendDigits(&out, Int(y), 4); out.append(UInt8(ascii: "-"))
        appendDigits(&out, m, 2); out.append(UInt8(ascii: "-"))
        appendDigits(&out, d, 2); out.append(UInt8(ascii: "T"))
        appendDigits(&out, Int(secondsOfDay / 3600), 2); out.append(UInt8(ascii: ":"))
        appendDigits(&out, Int(secondsOfDay % 3600 / 60), 2); out.append(UInt8(ascii: ":"))
        appendDigits(&out, Int(secondsOfDay % 60), 2); out.append(UInt8(ascii: "."))
        appendDigits(&out, ms, 3); out.append(UInt8(ascii: "Z"))
    }

    /// Milliseconds since the epoch of a `format(millis:)` string, or nil.
    public static func parse(_ text: Substring) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 24, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x2E, b[23] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[i] - 0x30)
            }
            return v
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10), let hh = number(11..<13),
              let mm = number(14..<16), let ss = number(17..<19), let ms = number(20..<23), (1...12).contains(m) else { return nil }
        // Days from civil date (the inverse of civilDate).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms
    }

    /// A compact form for file names: `20261127T132612.345Z`.
    public static func compact(millis: Int64) -> String {
        var s = format(millis: millis)
        s.removeAll { $0 == "-" || $0 == ":" }
        return s
    }

    /// Appends `value` in exactly `width` decimal digits (leading zeros;
    /// higher digits dropped).
    static func appendDigits(_ out: inout [UInt8], _ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v / divisor % 10))
            v %= divisor
            divisor /= 10
        }
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

/// Random (version 4) UUIDs in lowercase text form.
public enum UUIDText {
    /// The UUID made of these 128 random bits, with the version and variant
    /// bits set as RFC 9562 requires.
    public static func v4(_ high: UInt64, _ low: UInt64) -> String {
        let h = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let l = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        var out = [UInt8]()
        out.reserveCapacity(36)
        let hex = JSONValue.hexDigits
        for (i, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
            if i == 8 || i == 12 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int((h >> UInt64(shift)) & 0xF)])
        }
        for (i, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
            if i == 0 || i == 4 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int((l >> UInt64(shift)) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
