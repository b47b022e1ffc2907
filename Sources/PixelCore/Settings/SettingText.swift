/// How setting values spell sizes and durations, both ways: read from what
/// people write, and written into the messages that name a bad value.
enum SettingText {
    /// `4096`, `64k`, `8M`, `1G` (binary multiples) → bytes; nil for anything
    /// else, or a size past `Int.max`. Spaces and tabs around it are ignored.
    static func size(_ text: String) -> Int? {
        var digits = Substring(text).trimmingSpaces()
        var multiplier = 1
        switch digits.last?.lowercased() {
        case "k": multiplier = 1 << 10
        case "m": multiplier = 1 << 20
        case "g": multiplier = 1 << 30
        default: break
        }
        if multiplier != 1 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits),
              n <= Int.max / multiplier else { return nil }
        return n * multiplier
    }

    /// `250ms`, `2s`, `5m`, `1h` → milliseconds; a bare number uses
    /// `defaultUnit` (milliseconds per unit), or is refused when that is nil
    /// (an `fsync` of `1` could mean a second or a millisecond). Spaces and
    /// tabs around it are ignored.
    static func durationMillis(_ text: String, defaultUnit: Int64?) -> Int64? {
        let t = String(Substring(text).trimmingSpaces()).lowercased()
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        var number = Substring(t)
        var unit = defaultUnit
        // "ms" before "s" and "m": the first suffix that matches is the unit.
        for (suffix, ms) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            unit = ms
            break
        }
        guard let unit, !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(number),
              n <= Int64.max / unit else { return nil }
        return n * unit
    }

    /// A bound in milliseconds as the messages name it: whole hours as `24h`,
    /// else whole seconds as `60s` (never minutes, which the messages have
    /// never used), else `50ms`. Each form reads back through
    /// `durationMillis` to the same number.
    static func duration(millis: Int64) -> String {
        if millis >= 3_600_000 && millis % 3_600_000 == 0 { return "\(millis / 3_600_000)h" }
        if millis >= 1000 && millis % 1000 == 0 { return "\(millis / 1000)s" }
        return "\(millis)ms"
    }

    /// What a number outside `bounds` (or not a number) is told.
    static func wholeNumberProblem(_ bounds: ClosedRange<Int>, got text: String) -> String {
        "must be a whole number from \(bounds.lowerBound) to \(bounds.upperBound), got '\(text)'"
    }

    /// What a duration outside `bounds` (in milliseconds) is told.
    static func durationProblem(_ bounds: ClosedRange<Int64>, got text: String) -> String {
        "must be a duration from \(duration(millis: bounds.lowerBound)) to \(duration(millis: bounds.upperBound)), got '\(text)'"
    }
}
