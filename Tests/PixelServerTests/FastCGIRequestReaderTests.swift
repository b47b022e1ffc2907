import Testing
@testable import PixelServer

/// The door in front of libfcgi: every stream is either exactly one
/// well-formed responder request, a bounded answer to a management record,
/// or refused (issue 25). Each finding of the hostile review is a row here.
@Suite struct FastCGIRequestReaderTests {
    let reader = FastCGIRequestReader(limits: .init(maxParamsBytes: 64 * 1024), maxConnections: 2)

    func read(_ bytes: [UInt8]) -> FastCGIRequestReader.Outcome {
        bytes.withUnsafeBytes { reader.read($0) }
    }

    static let request = FastCGIBytes.request(query: "writeKey=k&anonymousId=a")

    /// `bytes`' records written again without padding, keep-connection set:
    /// what libfcgi is given.
    static func canonical(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i + 8 <= bytes.count {
            let length = Int(bytes[i + 4]) << 8 | Int(bytes[i + 5])
            out += bytes[i..<(i + 6)] + [0, 0] + bytes[(i + 8)..<(i + 8 + length)]
            i += 8 + length + Int(bytes[i + 6])
        }
        out[10] |= 1
        return out
    }

    @Test func aWholeRequestIsHandedOverWithKeepConnectionSet() throws {
        guard case .request(let request, let consumed) = read(Self.request) else {
            Issue.record("\(read(Self.request))")
            return
        }
        #expect(consumed == Self.request.count && !request.keepConnection && request.requestId == 1)
        #expect(request.bytes == Self.canonical(Self.request))
        let kept = FastCGIBytes.request(query: "a=b", keep: true)
        guard case .request(let keptRequest, _) = read(kept) else { Issue.record("kept"); return }
        #expect(keptRequest.keepConnection && keptRequest.bytes == Self.canonical(kept))
    }

    @Test func everyPrefixOfARequestWaitsForMore() {
        for end in 0..<Self.request.count {
            let outcome = read(Array(Self.request[0..<end]))
            #expect(outcome == .needMore, "after \(end) bytes: \(outcome)")
        }
    }

    /// Two requests in one write (a kept connection pipelining): the first
    /// is consumed alone, then the second is read from what is left.
    @Test func aPipelinedRequestIsReadAfterTheFirst() {
        let first = FastCGIBytes.request(query: "n=1", keep: true), second = FastCGIBytes.request(query: "n=2")
        guard case .request(let one, let consumed) = read(first + second) else { Issue.record("first"); return }
        #expect(consumed == first.count && one.bytes == Self.canonical(first))
        guard case .request(let two, _) = read(second) else { Issue.record("second"); return }
        #expect(two.bytes == Self.canonical(second))
    }

    /// 3,700 names once made an answer over 65,535 bytes and a worker trap.
    @Test func getValuesAnswersEachKnownNameOnce() {
        let asked = (0..<3700).flatMap { _ in FastCGIBytes.pair("FCGI_MPXS_CONNS", "") } + FastCGIBytes.pair("FCGI_MAX_CONNS", "")
        let records = stride(from: 0, to: asked.count, by: 65_528).flatMap { FastCGIBytes.record(9, id: 0, Array(asked[$0..<min($0 + 65_528, asked.count)])) }
        // Only one record of names is answered at a time: it is over 1,024 pairs, so refused.
        #expect(read(records).isRefusal)
        let few = FastCGIBytes.record(9, id: 0, (0..<500).flatMap { _ in FastCGIBytes.pair("FCGI_MPXS_CONNS", "") }
            + FastCGIBytes.pair("FCGI_MAX_CONNS", "") + FastCGIBytes.pair("X", ""))
        guard case .answered(let answer, let consumed) = read(few + Self.request) else { Issue.record("\(read(few))"); return }
        #expect(consumed == few.count)
        let body = FastCGIBytes.pair("FCGI_MPXS_CONNS", "0") + FastCGIBytes.pair("FCGI_MAX_CONNS", "2")
        #expect(answer == FastCGIBytes.record(10, id: 0, body))
    }

    /// A 72-byte PARAMS record declaring 2^30-byte lengths once aborted a
    /// worker in libfcgi's malloc.
    @Test func declaredLengthsMustFitTheBytesSent() {
        let huge: [UInt8] = [0xC0, 0, 0, 0, 0xC0, 0, 0, 0] + [UInt8](repeating: 0x41, count: 56)
        let stream = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0]) + FastCGIBytes.record(4, huge) + FastCGIBytes.record(4, [])
            + FastCGIBytes.record(5, [])
        #expect(read(stream).isRefusal)
        // A pair whose value runs one byte past the stream, and one cut
        // across two records (which is fine).
        let pair = FastCGIBytes.pair("QUERY_STRING", "abc")
        let short = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0]) + FastCGIBytes.record(4, Array(pair.dropLast()))
            + FastCGIBytes.record(4, []) + FastCGIBytes.record(5, [])
        #expect(read(short).isRefusal)
        let split = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0]) + FastCGIBytes.record(4, Array(pair[0..<5]))
            + FastCGIBytes.record(4, Array(pair[5...])) + FastCGIBytes.record(4, []) + FastCGIBytes.record(5, [])
        if case .request = read(split) {} else { Issue.record("a pair across records: \(read(split))") }
        // A four-byte length cut off by the record's end.
        let cut = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0]) + FastCGIBytes.record(4, [0x80, 0]) + FastCGIBytes.record(4, [])
        #expect(read(cut).isRefusal)
    }

    /// An early ABORT_REQUEST once passed the gate and left libfcgi waiting.
    @Test func anAbortBeforeTheRequestIsWholeEndsItHere() {
        let begin = FastCGIBytes.record(1, [0, 1, 1, 0, 0, 0, 0, 0])
        let stream = begin + FastCGIBytes.record(2, [])
        #expect(read(stream) == .aborted(FastCGIRequestReader.endRequest(1, protocolStatus: 0), consumed: stream.count, keep: true))
    }

    /// Records of another request id once passed the gate and stalled libfcgi.
    @Test func anotherRequestIdIsRefused() {
        let begin = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0])
        let stream = begin + FastCGIBytes.record(4, id: 2, FastCGIBytes.pair("A", "b"))
        #expect(read(stream) == .refused("a record of request 2 inside request 1: multiplexing is refused",
                                         answer: FastCGIRequestReader.endRequest(2, protocolStatus: 1)))
        let second = begin + FastCGIBytes.record(1, id: 2, [0, 1, 0, 0, 0, 0, 0, 0])
        #expect(read(second).isRefusal)
    }

    static let begin: [UInt8] = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0])
    static let paramsEnd: [UInt8] = FastCGIBytes.record(4, [])
    static let refusedStreams: [(String, [UInt8])] = [
        ("not FastCGI", Array("GET / HTTP/1.1\r\n\r\n".utf8)),
        ("PARAMS first", paramsEnd),
        ("a short BEGIN", FastCGIBytes.record(1, [0, 1, 0])),
        ("STDIN before the parameters end", begin + FastCGIBytes.record(5, [])),
        ("a DATA record", begin + paramsEnd + FastCGIBytes.record(8, [1])),
        ("BEGIN with request id 0", FastCGIBytes.record(1, id: 0, [0, 1, 0, 0, 0, 0, 0, 0])),
        ("GET_VALUES inside a request", begin + FastCGIBytes.record(9, id: 0, [])),
        ("PARAMS after their end", begin + paramsEnd + FastCGIBytes.record(4, FastCGIBytes.pair("A", "b"))),
    ]

    @Test(arguments: refusedStreams)
    func streamsLibfcgiCannotTakeAreRefused(_ what: String, _ bytes: [UInt8]) {
        #expect(read(bytes).isRefusal, "\(what): \(read(bytes))")
    }

    /// Found by the door's fuzzer: libfcgi does not skip the padding of a
    /// begin record or of the empty parameters record (`SetReaderType`
    /// forgets it) and reads it as the next header. Padding is the peer's
    /// to send; libfcgi never sees any.
    @Test func paddingNeverReachesLibfcgi() {
        let padded = [1, 1, 0, 1, 0, 8, 64, 0, 0, 1, 1, 0, 0, 0, 0, 0] + [UInt8](repeating: 0x41, count: 64)
            + [1, 4, 0, 1, 0, 0, 3, 0, 0x42, 0x42, 0x42] + FastCGIBytes.record(5, [])
        guard case .request(let request, let consumed) = read(padded) else { Issue.record("\(read(padded))"); return }
        #expect(consumed == padded.count)
        #expect(request.bytes == [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 4, 0, 1, 0, 0, 0, 0, 1, 5, 0, 1, 0, 0, 0, 0])
    }

    /// An abort for a request already answered, on a kept connection,
    /// is nothing to end: the spec says to ignore it, and so does the door.
    @Test func aStrayAbortIsIgnored() {
        let stray = FastCGIBytes.record(2, [])
        #expect(read(stray + Self.request) == .answered([], consumed: stray.count))
    }

    @Test func otherRolesAreAnsweredUnknownRole() {
        let stream = FastCGIBytes.record(1, id: 7, [0, 2, 0, 0, 0, 0, 0, 0])
        #expect(read(stream) == .refused("refused a FastCGI request for role 2 (pixelgate is a responder): answered FCGI_UNKNOWN_ROLE",
                                         answer: FastCGIRequestReader.endRequest(7, protocolStatus: 3)))
    }

    @Test func anUnknownManagementRecordIsAnsweredUnknownType() {
        let stream = FastCGIBytes.record(42, id: 0, [1, 2, 3])
        #expect(read(stream) == .answered(FastCGIBytes.record(11, id: 0, [42, 0, 0, 0, 0, 0, 0, 0]), consumed: stream.count))
    }

    @Test func capsBoundParametersBodyAndBytes() {
        let begin = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0])
        let params = (0..<2).flatMap { _ in FastCGIBytes.record(4, FastCGIBytes.pair("X", String(repeating: "v", count: 40_000))) }
        #expect(read(begin + params).isRefusal, "64 KiB of parameters")
        let body = (0..<3).flatMap { _ in FastCGIBytes.record(5, [UInt8](repeating: 0x61, count: 30_000)) }
        #expect(read(begin + FastCGIBytes.record(4, []) + body).isRefusal, "64 KiB of body")
        // Tiny records, whose headers would weigh more than their content.
        let tiny = (0..<30_000).flatMap { _ in FastCGIBytes.record(4, [0]) }
        #expect(read(begin + tiny).isRefusal)
        #expect(read(Array(repeating: 0, count: 8)).isRefusal)
    }
}

extension FastCGIRequestReader.Outcome {
    var isRefusal: Bool {
        if case .refused = self { return true }
        return false
    }
}
