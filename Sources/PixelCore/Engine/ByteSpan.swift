/// A run of bytes in a `QueryDecoder`'s buffer.
struct ByteSpan: Equatable {
    var start: Int32
    var count: Int32

    init(start: Int, count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }

    var range: Range<Int> { Int(start)..<Int(start + count) }
}
