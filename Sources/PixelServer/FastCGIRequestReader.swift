/// The door in front of libfcgi: reads a FastCGI connection's bytes as they
/// arrive and tells, from the records alone, whether they hold exactly one
/// well-formed responder request, and which bytes make it. libfcgi trusts
/// what it reads (a declared length is a `malloc`, an answer's length is a
/// 16-bit field, a record of another request is waited on), so it is given
/// only the bytes this reader accepted, never the connection itself.
///
/// Every length the peer declares is checked against the bytes actually
/// there before it is used, as PHP-FPM's `fcgi_read_request` and
/// `fcgi_get_params` do: the record header (version 1, a known type, one
/// request id), `FCGI_BEGIN_REQUEST`'s 8 bytes and role, each
/// name-value pair's two lengths against the parameters received and the
/// cap, the body against its cap, `FCGI_STDIN` to its empty record.
/// Management records before a request are answered here, each known name
/// once, so an answer is bounded. An `FCGI_ABORT_REQUEST` ends the request
/// here. Anything else closes the connection.
///
/// Pure: no I/O. The caller keeps a connection's unread bytes and calls
/// `read` whenever more arrive; what an outcome consumed is dropped from the
/// front, and a second request already there (pipelined) is read next.
struct FastCGIRequestReader {
    /// Bounds on what one request may hold.
    struct Limits: Sendable {
        /// Room for the longest query twice (QUERY_STRING and REQUEST_URI)
        /// and the headers, at least 64 KiB: 100 MB of parameters once grew
        /// a worker by as much.
        static func paramsBytes(maxQueryBytes: Int) -> Int { max(64 * 1024, 2 * maxQueryBytes + 16 * 1024) }

        /// Bytes of name-value pairs (the `FCGI_PARAMS` stream).
        var maxParamsBytes: Int
        /// Bytes of body (`FCGI_STDIN`): a pixel is a GET; 64 KiB is room
        /// for any web server's habits and what the adapter reads through.
        var maxBodyBytes = 64 * 1024
        /// Name-value pairs in one request: more than any web server sends
        /// (nginx's default set is about 30).
        var maxPairs = 1024
        /// Records in one request: web servers fill theirs (nginx sends its
        /// parameters in one); a peer that dribbles tiny records would make
        /// each new byte cost a walk over all of them.
        var maxRecords = 512

        /// Bytes a whole request may take on the wire: its content and
        /// 64 KiB for record headers and padding (web servers fill their
        /// records; a peer that cuts its request into tiny records to make
        /// the headers weigh is refused). More buffered without a whole
        /// request closes the connection.
        var maxRequestBytes: Int { maxParamsBytes + maxBodyBytes + 64 * 1024 }
    }

    /// A request, ready for libfcgi.
    struct Request: Equatable {
        /// Its records from `FCGI_BEGIN_REQUEST` to the empty `FCGI_STDIN`,
        /// written anew: the same contents, no padding (libfcgi does not
        /// skip the padding of a begin record or of the record that ends
        /// the parameters, and would read it as the next header), and the
        /// begin record's flags saying keep-connection (libfcgi reads from
        /// a socket of the adapter's own, never closed).
        var bytes: [UInt8]
        var requestId: UInt16
        /// The web server keeps the connection after the answer.
        var keepConnection: Bool
    }

    enum Outcome: Equatable {
        /// No whole record or request yet: wait for more bytes.
        case needMore
        /// A request: `consumed` bytes from the front are it.
        case request(Request, consumed: Int)
        /// Management records before a request, answered: send `answer`,
        /// drop `consumed` bytes, read on.
        case answered([UInt8], consumed: Int)
        /// The request was aborted before it was whole: send `answer` (its
        /// `FCGI_END_REQUEST`), drop `consumed`, and close unless `keep`.
        case aborted([UInt8], consumed: Int, keep: Bool)
        /// Not a stream to take: send `answer` if any, close the connection;
        /// `reason` is for the log.
        case refused(String, answer: [UInt8]?)
    }

    enum RecordType: UInt8 {
        case beginRequest = 1, abortRequest = 2, endRequest = 3, params = 4, stdin = 5, stdout = 6, stderr = 7, data = 8
        case getValues = 9, getValuesResult = 10, unknownType = 11
    }

    let limits: Limits
    /// What `FCGI_GET_VALUES` is told.
    let maxConnections: Int

    /// Reads the records at the front of `b`.
    func read(_ b: UnsafeRawBufferPointer) -> Outcome {
        var i = 0
        var begin: (requestId: UInt16, keep: Bool)?
        var params: [Range<Int>] = []
        var paramsBytes = 0
        var paramsDone = false
        var bodyBytes = 0
        // The request's records, written anew once it is whole (see
        // `Request.bytes`): until then a wake-up costs a walk over headers.
        var records: [(type: UInt8, content: Range<Int>)] = []
        func request(_ requestId: UInt16, keep: Bool, consumed: Int) -> Outcome {
            var out: [UInt8] = []
            out.reserveCapacity(records.reduce(0) { $0 + 8 + $1.content.count })
            for record in records {
                let n = record.content.count
                out += [1, record.type, UInt8(requestId >> 8), UInt8(requestId & 0xFF), UInt8(n >> 8), UInt8(n & 0xFF), 0, 0]
                out += UnsafeRawBufferPointer(rebasing: b[record.content])
            }
            out[8 + 2] |= 1  // FCGI_KEEP_CONN, for libfcgi's side
            return .request(Request(bytes: out, requestId: requestId, keepConnection: keep), consumed: consumed)
        }
        while true {
            guard b.count - i >= 8 else { return tooMuch(b.count) ?? .needMore }
            guard b[i] == 1 else { return .refused("not a FastCGI stream (record version \(b[i]))", answer: nil) }
            let type = b[i + 1]
            let requestId = UInt16(b[i + 2]) << 8 | UInt16(b[i + 3])
            let length = Int(b[i + 4]) << 8 | Int(b[i + 5])
            let end = i + 8 + length + Int(b[i + 6])
            guard end <= b.count else { return tooMuch(b.count) ?? .needMore }
            let content = (i + 8)..<(i + 8 + length)

            if requestId == 0 {
                // A management record: only before a request.
                guard begin == nil else {
                    return .refused("a management record (type \(type)) inside a request", answer: nil)
                }
                guard type == RecordType.getValues.rawValue else {
                    if RecordType(rawValue: type) != nil {
                        return .refused("FastCGI record type \(type) with request id 0", answer: nil)
                    }
                    return .answered(Self.record(.unknownType, 0, [type, 0, 0, 0, 0, 0, 0, 0]), consumed: end)
                }
                guard let names = Self.pairs(b, [content], maxPairs: limits.maxPairs) else {
                    return .refused("FCGI_GET_VALUES whose lengths run past its record", answer: nil)
                }
                return .answered(getValuesResult(b, names), consumed: end)
            }

            guard let begun = begin else {
                // An abort for a request already answered: nothing to end.
                if type == RecordType.abortRequest.rawValue { return .answered([], consumed: end) }
                guard type == RecordType.beginRequest.rawValue, length == 8 else {
                    return .refused("FastCGI record type \(type) before FCGI_BEGIN_REQUEST", answer: nil)
                }
                let role = Int(b[i + 8]) << 8 | Int(b[i + 9])
                guard role == 1 else {
                    return .refused("refused a FastCGI request for role \(role) (pixelgate is a responder): answered FCGI_UNKNOWN_ROLE",
                                    answer: Self.endRequest(requestId, protocolStatus: 3))
                }
                begin = (requestId, b[i + 10] & 1 != 0)
                records.append((type, content))
                i = end
                continue
            }
            guard records.count < limits.maxRecords else {
                return .refused("a request cut into over \(limits.maxRecords) records: connection closed", answer: nil)
            }
            guard requestId == begun.requestId else {
                // One request at a time: FCGI_MPXS_CONNS is 0.
                return .refused("a record of request \(requestId) inside request \(begun.requestId): multiplexing is refused",
                                answer: Self.endRequest(requestId, protocolStatus: 1))
            }
            switch RecordType(rawValue: type) {
            case .abortRequest:
                return .aborted(Self.endRequest(requestId, protocolStatus: 0), consumed: end, keep: begun.keep)
            case .params:
                guard !paramsDone else { return .refused("FCGI_PARAMS after the parameters ended", answer: nil) }
                if length == 0 {
                    guard Self.pairs(b, params, maxPairs: limits.maxPairs) != nil else {
                        return .refused("request parameters whose declared lengths run past the bytes sent", answer: nil)
                    }
                    paramsDone = true
                    records.append((type, content))
                } else {
                    paramsBytes += length
                    guard paramsBytes <= limits.maxParamsBytes else {
                        return .refused("request parameters over \(limits.maxParamsBytes) bytes: connection closed", answer: nil)
                    }
                    params.append(content)
                    records.append((type, content))
                }
            case .stdin:
                guard paramsDone else { return .refused("FCGI_STDIN before the parameters ended", answer: nil) }
                if length == 0 {
                    records.append((type, content))
                    return request(requestId, keep: begun.keep, consumed: end)
                }
                bodyBytes += length
                guard bodyBytes <= limits.maxBodyBytes else {
                    return .refused("a request body over \(limits.maxBodyBytes) bytes: connection closed", answer: nil)
                }
                records.append((type, content))
            default:
                return .refused("FastCGI record type \(type) inside a responder request", answer: nil)
            }
            i = end
        }
    }

    /// Refuses a connection holding more than a whole request may be.
    func tooMuch(_ count: Int) -> Outcome? {
        count > limits.maxRequestBytes ? .refused("over \(limits.maxRequestBytes) bytes without a whole request: connection closed", answer: nil) : nil
    }

    /// The names of the name-value pairs in `ranges` of `b` (one stream cut
    /// into records), or nil when a declared length runs past the bytes
    /// there or there are over `maxPairs` pairs. Names are ranges of `b`
    /// when the stream is one record (GET_VALUES is); otherwise empty.
    static func pairs(_ b: UnsafeRawBufferPointer, _ ranges: [Range<Int>], maxPairs: Int) -> [Range<Int>]? {
        if ranges.count <= 1 {
            let range = ranges.first ?? 0..<0
            return pairs(UnsafeRawBufferPointer(rebasing: b[range]), maxPairs: maxPairs)?.map {
                ($0.lowerBound + range.lowerBound)..<($0.upperBound + range.lowerBound)
            }
        }
        // A pair may cross records: read the stream joined.
        var joined: [UInt8] = []
        joined.reserveCapacity(ranges.reduce(0) { $0 + $1.count })
        for range in ranges { joined += UnsafeRawBufferPointer(rebasing: b[range]) }
        return joined.withUnsafeBytes { pairs($0, maxPairs: maxPairs) }.map { $0.map { _ in 0..<0 } }
    }

    /// The pairs of one contiguous stream: each name's range in it.
    static func pairs(_ s: UnsafeRawBufferPointer, maxPairs: Int) -> [Range<Int>]? {
        var names: [Range<Int>] = []
        var i = 0
        func length() -> Int? {
            guard i < s.count else { return nil }
            let first = s[i]
            if first < 0x80 {
                i += 1
                return Int(first)
            }
            guard s.count - i >= 4 else { return nil }
            let n = Int(first & 0x7F) << 24 | Int(s[i + 1]) << 16 | Int(s[i + 2]) << 8 | Int(s[i + 3])
            i += 4
            return n
        }
        while i < s.count {
            guard names.count < maxPairs, let nameLength = length(), let valueLength = length(),
                  nameLength <= s.count - i, valueLength <= s.count - i - nameLength else { return nil }
            names.append(i..<(i + nameLength))
            i += nameLength + valueLength
        }
        return names
    }

    /// `FCGI_GET_VALUES_RESULT`: the variables asked that pixelgate knows,
    /// each once, in the order first asked.
    func getValuesResult(_ b: UnsafeRawBufferPointer, _ names: [Range<Int>]) -> [UInt8] {
        let known: [(String, String)] = [("FCGI_MAX_CONNS", String(maxConnections)), ("FCGI_MAX_REQS", String(maxConnections)),
                                         ("FCGI_MPXS_CONNS", "0")]
        var given = [Bool](repeating: false, count: known.count)
        var body: [UInt8] = []
        for name in names {
            let asked = UnsafeRawBufferPointer(rebasing: b[name])
            guard let k = known.firstIndex(where: { $0.0.utf8.elementsEqual(asked) }), !given[k] else { continue }
            given[k] = true
            let (n, v) = known[k]
            body += [UInt8(n.utf8.count), UInt8(v.utf8.count)] + Array(n.utf8) + Array(v.utf8)
        }
        return Self.record(.getValuesResult, 0, body)
    }

    static func endRequest(_ requestId: UInt16, protocolStatus: UInt8) -> [UInt8] {
        record(.endRequest, requestId, [0, 0, 0, 0, protocolStatus, 0, 0, 0])
    }

    /// A record with `body` (at most 65,535 bytes: every caller's is bounded).
    static func record(_ type: RecordType, _ requestId: UInt16, _ body: [UInt8]) -> [UInt8] {
        precondition(body.count <= 0xFFFF, "a FastCGI record's content is at most 65,535 bytes")
        let padding = (8 - body.count % 8) % 8
        return [1, type.rawValue, UInt8(requestId >> 8), UInt8(requestId & 0xFF), UInt8(body.count >> 8), UInt8(body.count & 0xFF),
                UInt8(padding), 0] + body + [UInt8](repeating: 0, count: padding)
    }
}
