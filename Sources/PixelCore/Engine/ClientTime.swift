/// Reads the times a client may put in a hit (`originalTimestamp`, `sentAt`)
/// and computes the `timestamp` RudderStack would give the event.
///
/// RudderStack's processor sets `timestamp = receivedAt − (sentAt −
/// originalTimestamp)` unless the event has one, with `receivedAt` the
/// moment the data plane got the request. A spooled event reaches it
/// minutes or hours after the hit, so pixelgate sets `timestamp` at the hit
/// with the same rule and the hit's own time as `receivedAt` (SPEC §6).
public enum ClientTime {
    /// The event's `timestamp`, in milliseconds since the epoch: the hit's
    /// time, moved back by the client's own `sentAt − originalTimestamp`
    /// where the query gave them. A value that does not parse counts as the
    /// hit's time, as it does in the processor.
    public static func timestamp(hitMillis: Int64, originalTimestamp: UnsafeBufferPointer<UInt8>?,
                                 sentAt: UnsafeBufferPointer<UInt8>?) -> Int64 {
        let original = originalTimestamp.flatMap(parseMillis) ?? hitMillis
        let sent = sentAt.flatMap(parseMillis) ?? hitMillis
        let (skew, overflow) = sent.subtractingReportingOverflow(original)
        let (moved, overflowAgain) = hitMillis.subtractingReportingOverflow(skew)
        if overflow || overflowAgain { return hitMillis }
        return min(max(moved, minMillis), maxMillis)
    }

    /// 0000-01-01 to 9999-12-31: what a four-digit year can write.
    static let minMillis: Int64 = -62_167_219_200_000
    static let maxMillis: Int64 = 253_402_300_799_999

    /// Milliseconds since the epoch of a client's time, or nil. Takes the
    /// forms clients send and the processor's parser (dateparse) reads the
    /// same way: RFC 3339 / ISO 8601 date-times with `T` or a space,
    /// optional fractions and a zone (`Z`, `±hh:mm`, `±hhmm`, `±hh`; none
    /// means UTC), a date alone, and digit strings by length as epoch
    /// seconds (10), milliseconds (13, AMP's `${timestamp}`), microseconds
    /// (16) or nanoseconds (19), or as `yyyyMMddhhmmss` (14), `yyyymmdd` (8)
    /// and `yyyy` (4).
    public static func parseMillis(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var b = Substring(decoding: text, as: UTF8.self).utf8[...]
        // Surrounding spaces are not part of the time.
        while b.first == 0x20 { b = b.dropFirst() }
        while b.last == 0x20 { b = b.dropLast() }
        let bytes = Array(b)
        guard !bytes.isEmpty else { return nil }
        if bytes.allSatisfy(isDigit) { return digitsOnly(bytes) }
        return dateTime(bytes) ?? httpDate(bytes)
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// The decimal number in `b[range]`, or nil (a non-digit, or past Int64).
    static func number(_ b: [UInt8], _ range: Range<Int>) -> Int64? {
        guard range.upperBound <= b.count else { return nil }
        var v: Int64 = 0
        for i in range {
            guard isDigit(b[i]) else { return nil }
            let (times10, o1) = v.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(b[i] - 0x30))
            if o1 || o2 { return nil }
            v = sum
        }
        return v
    }

    static func digitsOnly(_ b: [UInt8]) -> Int64? {
        guard b.count <= 19, let n = number(b, 0..<b.count) else { return nil }
        switch b.count {
        case 19: return n / 1_000_000
        case 16: return n / 1000
        case 13: return n
        case 10: return n * 1000
        case 14:
            return civil(year: n / 10_000_000_000, month: n / 100_000_000 % 100, day: n / 1_000_000 % 100,
                         hour: n / 10_000 % 100, minute: n / 100 % 100, second: n % 100)
        case 8: return civil(year: n / 10_000, month: n / 100 % 100, day: n % 100)
        case 4: return civil(year: n, month: 1, day: 1)
        default: return nil
        }
    }

    /// `YYYY-MM-DD` (or `YYYY/MM/DD`), then optionally `T` or a space,
    /// `hh:mm[:ss[.fff…]]` and a zone.
    static func dateTime(_ b: [UInt8]) -> Int64? {
        guard b.count >= 10, b[4] == 0x2D || b[4] == 0x2F, b[7] == b[4], let y = number(b, 0..<4), let mo = number(b, 5..<7),
              let d = number(b, 8..<10) else { return nil }
        if b.count == 10 { return civil(year: y, month: mo, day: d) }
        guard b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == 0x20, b.count >= 16,
              let h = number(b, 11..<13), b[13] == 0x3A, let mi = number(b, 14..<16) else { return nil }
        var i = 16
        var s: Int64 = 0
        var fractionMillis: Int64 = 0
        if i < b.count, b[i] == 0x3A {
            guard let sec = number(b, (i + 1)..<(i + 3)) else { return nil }
            s = sec
            i += 3
            if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
                i += 1
                let start = i
                var scale: Int64 = 100
                while i < b.count, isDigit(b[i]) {
                    fractionMillis += Int64(b[i] - 0x30) * scale
                    scale /= 10
                    i += 1
                }
                guard i > start else { return nil }
            }
        }
        guard let local = civil(year: y, month: mo, day: d, hour: h, minute: mi, second: s) else { return nil }
        guard let offsetMinutes = zone(b[i...]) else { return nil }
        return local + fractionMillis - offsetMinutes * 60_000
    }

    /// RFC 1123, what JavaScript's `toUTCString()` and HTTP write:
    /// `Tue, 01 Dec 2026 20:15:04 GMT` (also `UTC`, `Z` or `±hhmm`).
    static func httpDate(_ b: [UInt8]) -> Int64? {
        let parts = b.split(separator: 0x20).map(Array.init)
        guard parts.count == 6, parts[0].count == 4, parts[0].last == UInt8(ascii: ","),
              let day = number(parts[1], 0..<parts[1].count), parts[1].count <= 2,
              let month = months.firstIndex(of: String(decoding: parts[2], as: UTF8.self)),
              parts[3].count == 4, let year = number(parts[3], 0..<4),
              parts[4].count == 8, parts[4][2] == 0x3A, parts[4][5] == 0x3A,
              let h = number(parts[4], 0..<2), let mi = number(parts[4], 3..<5), let s = number(parts[4], 6..<8),
              let start = civil(year: year, month: Int64(month + 1), day: day, hour: h, minute: mi, second: s) else { return nil }
        let zoneText = String(decoding: parts[5], as: UTF8.self)
        let offset = zoneText == "GMT" || zoneText == "UTC" ? 0 : zone(parts[5][...])
        guard let offset else { return nil }
        return start - offset * 60_000
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The zone's offset east of UTC in minutes; an empty zone is UTC.
    static func zone(_ z: ArraySlice<UInt8>) -> Int64? {
        let b = Array(z)
        if b.isEmpty || b == [UInt8(ascii: "Z")] || b == [UInt8(ascii: "z")] { return 0 }
        guard b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-") else { return nil }
        let sign: Int64 = b[0] == UInt8(ascii: "-") ? -1 : 1
        let hours: Int64?, minutes: Int64?
        switch b.count {
        case 3: hours = number(b, 1..<3); minutes = 0
        case 5: hours = number(b, 1..<3); minutes = number(b, 3..<5)
        case 6 where b[3] == 0x3A: hours = number(b, 1..<3); minutes = number(b, 4..<6)
        default: return nil
        }
        guard let hours, let minutes, hours <= 23, minutes <= 59 else { return nil }
        return sign * (hours * 60 + minutes)
    }

    /// Milliseconds since the epoch of a UTC civil time, or nil when a
    /// field is out of range.
    static func civil(year: Int64, month: Int64, day: Int64, hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0) -> Int64? {
        guard (1...12).contains(month), (1...31).contains(day), hour <= 23, minute <= 59, second <= 59 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= monthDays[Int(month - 1)] else { return nil }
        // Days from the civil date (the inverse of ISO8601.civilDate).
        let yy = month <= 2 ? year - 1 : year
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return (days * 86_400 + hour * 3600 + minute * 60 + second) * 1000
    }
}
