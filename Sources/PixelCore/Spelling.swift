/// The known name a mistyped one was most likely meant to be, for "did you
/// mean" in `check`'s settings and the command line's commands and options.
public enum Spelling {
    /// The edits (a byte inserted, removed, replaced, or two neighbours
    /// swapped) from `a` to `b`, ASCII case ignored.
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8).map(lower), y = Array(b.utf8).map(lower)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        // Three rows of the table: two back for a swap.
        var before = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] { best = min(best, before[j - 2] + 1) }
                current[j] = best
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[y.count]
    }

    /// The closest of `known` to `name`, if it is close enough to be a
    /// slip: a known name the typed one begins (`PIXELGATE_DATA_PLANE`,
    /// `stat`), else one at most a third as many edits away as the typed
    /// name has letters past what the two share at their start (at least
    /// one, at most three): `PIXELGATE_ZZZ` is no slip for
    /// `PIXELGATE_GZIP`. Ties go to the first listed.
    public static func closest(to name: String, among known: [String]) -> String? {
        let typed = Array(name.utf8).map(lower)
        if typed.count >= 3,
           let longer = known.filter({ $0.utf8.count > typed.count && Array($0.utf8.prefix(typed.count)).map(lower) == typed })
               .min(by: { $0.utf8.count < $1.utf8.count }) {
            return longer
        }
        var best: (name: String, distance: Int)?
        for candidate in known {
            let other = Array(candidate.utf8).map(lower)
            var shared = 0
            while shared < typed.count && shared < other.count && typed[shared] == other[shared] { shared += 1 }
            let allowed = max(1, min((typed.count - shared) / 3, 3))
            let d = distance(name, candidate)
            if d <= allowed && d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.name
    }

    private static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }
}
