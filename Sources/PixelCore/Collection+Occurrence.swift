/// Where a run of elements first occurs in a collection. The standard
/// library's `firstRange(of:)` and `String.contains(_: String)` come from
/// `_StringProcessing`, which release builds leave out: its metadata and
/// relocations were paid by every CGI start (BENCHMARKS.md, "A hit's budget").
extension Collection where Element: Equatable {
    public func firstOccurrence<Other: Collection<Element>>(of other: Other) -> Range<Index>? {
        guard let head = other.first else { return startIndex..<startIndex }
        var i = startIndex
        while let start = self[i...].firstIndex(of: head) {
            var a = start, b = other.startIndex
            while b != other.endIndex, a != endIndex, self[a] == other[b] {
                formIndex(after: &a)
                other.formIndex(after: &b)
            }
            if b == other.endIndex { return start..<a }
            if a == endIndex { return nil }
            i = index(after: start)
        }
        return nil
    }

    public func containsOccurrence<Other: Collection<Element>>(of other: Other) -> Bool {
        firstOccurrence(of: other) != nil
    }
}
