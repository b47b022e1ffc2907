/// One decoded pair, as spans of the decoder's buffer.
struct PairSpans {
    var name: ByteSpan
    var value: ByteSpan
}
