/// A run of bytes of an event's text: the server's words, the decoded query
/// (`QueryDecoder` writes it there) and the values the server adds. Two
/// 32-bit fields, because the tree's nodes hold two each and the text is
/// far smaller than 2 GiB (the query is limited).
struct ByteSpan: Equatable {
    var start: Int32
    var count: Int32

    init(start: Int, count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }

    var range: Range<Int> { Int(start)..<Int(start + count) }
}
