import PixelSystem

/// Looks at a FastCGI connection's bytes without taking them
/// (`recv(MSG_PEEK)`) and tells whether a whole responder request is there,
/// so that a thread is given to a connection only once it can be answered
/// at once: a client that connects and stalls, or sends half a request,
/// holds no thread (SPEC §7a). It also answers what libfcgi would hold a
/// thread for: `FCGI_GET_VALUES`, and roles other than responder.
struct RequestGate {
    /// Most bytes of parameters a request may carry (names and values, as
    /// FastCGI encodes them): room for the longest query twice (QUERY_STRING
    /// and REQUEST_URI) and the headers, at least 64 KiB. 100 MB of params
    /// used to grow a worker by as much.
    let maxParamsBytes: Int
    /// What one look may see: the parameters' cap and their records'
    /// headers, plus room for the start of a body.
    var capacity: Int { maxParamsBytes + 16 * 1024 }
    /// Connections one thread watches at most while they deliver their
    /// requests (or wait, kept, for the next); more are closed at once.
    static let maxParked = 1024
    /// Connections and requests at once that a worker reports to
    /// `FCGI_GET_VALUES`.
    let maxConnections: Int

    enum Verdict: Equatable {
        /// A whole request (or its parameters and a body that fills the
        /// look): libfcgi can read it without waiting.
        case complete
        /// Not yet: keep watching, until the deadline.
        case incomplete
        /// Closed by the peer, broken, over the cap, or answered here
        /// (another role): close it.
        case done(String?)
    }

    private let buffer: UnsafeMutableRawBufferPointer

    init(maxConnections: Int, maxQueryBytes: Int) {
        self.maxConnections = maxConnections
        maxParamsBytes = max(64 * 1024, 2 * maxQueryBytes + 16 * 1024)
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: maxParamsBytes + 16 * 1024, alignment: 8)
    }

    func release() { buffer.deallocate() }

    /// Peeks at `fd` (which must not block: MSG_DONTWAIT) and judges what is
    /// there; management records in front of a request are consumed and
    /// answered.
    func check(_ fd: Int32) -> Verdict {
        while true {
            let n: Int
            switch Socket.peek(fd, into: buffer) {
            case .bytes(let count): n = count
            case .nothingYet: return .incomplete
            case .closed: return .done(nil)
            }
            switch judge(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), full: n == buffer.count) {
            case .request(let verdict): return verdict
            case .getValues(let recordBytes, let names):
                // Take the record off the connection, answer it, look again.
                guard Socket.take(fd, recordBytes, into: buffer) else { return .done(nil) }
                guard Socket.sendAll(fd, getValuesResult(names)) else { return .done(nil) }
            case .unknownRole(let requestId, let role):
                _ = Socket.sendAll(fd, endRequest(requestId, protocolStatus: 3))  // FCGI_UNKNOWN_ROLE
                return .done("refused a FastCGI request for role \(role) (pixelgate is a responder): answered FCGI_UNKNOWN_ROLE")
            }
        }
    }

    enum Reading: Equatable {
        case request(Verdict)
        case getValues(recordBytes: Int, names: [String])
        case unknownRole(requestId: UInt16, role: Int)
    }

    /// The records in `b` (`full`: the look is as large as it can be).
    func judge(_ b: UnsafeRawBufferPointer, full: Bool) -> Reading {
        var i = 0
        var begun = false
        var paramsBytes = 0
        var paramsDone = false
        while i + 8 <= b.count {
            let type = b[i + 1]
            let requestId = UInt16(b[i + 2]) << 8 | UInt16(b[i + 3])
            let length = Int(b[i + 4]) << 8 | Int(b[i + 5])
            let recordBytes = 8 + length + Int(b[i + 6])
            guard b[i] == 1 else { return .request(.done("not a FastCGI connection")) }
            let whole = i + recordBytes <= b.count
            switch type {
            case 9 where requestId == 0 && !begun:  // FCGI_GET_VALUES
                guard whole else { return .request(full ? .done("FCGI_GET_VALUES too large") : .incomplete) }
                guard i == 0 else { return .request(.incomplete) }  // answered once it is first
                return .getValues(recordBytes: recordBytes, names: nameValueNames(b, from: i + 8, length: length))
            case 1:  // FCGI_BEGIN_REQUEST
                guard !begun, length >= 3 else { return .request(.done("a second FCGI_BEGIN_REQUEST")) }
                guard whole else { return .request(.incomplete) }
                let role = Int(b[i + 8]) << 8 | Int(b[i + 9])
                if role != 1 { return .unknownRole(requestId: requestId, role: role) }
                begun = true
            case 4:  // FCGI_PARAMS
                guard begun, !paramsDone else { return .request(.done("FCGI_PARAMS out of order")) }
                paramsBytes += length
                if paramsBytes > maxParamsBytes {
                    return .request(.done("request parameters over \(maxParamsBytes) bytes: connection closed"))
                }
                if length == 0 && whole { paramsDone = true }
            case 5:  // FCGI_STDIN
                guard paramsDone else { return .request(.done("FCGI_STDIN before the parameters ended")) }
                if length == 0 && whole { return .request(.complete) }
            case 2:  // FCGI_ABORT_REQUEST: libfcgi deals with it
                return .request(.complete)
            default:
                if !begun { return .request(.done("unexpected FastCGI record type \(type)")) }
            }
            i += recordBytes
        }
        // A body larger than the look: the parameters are in, the body
        // flows; libfcgi reads it as it comes.
        if full && paramsDone { return .request(.complete) }
        if full { return .request(.done("request parameters over \(maxParamsBytes) bytes: connection closed")) }
        return .request(.incomplete)
    }

    /// The names asked for in an FCGI_GET_VALUES body (values are empty).
    func nameValueNames(_ b: UnsafeRawBufferPointer, from start: Int, length: Int) -> [String] {
        var names: [String] = []
        var i = start
        let end = start + length
        func size() -> Int? {
            guard i < end else { return nil }
            if b[i] < 0x80 { i += 1; return Int(b[i - 1]) }
            guard i + 4 <= end else { return nil }
            let n = Int(b[i] & 0x7F) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            i += 4
            return n
        }
        while i < end, let nameLength = size(), let valueLength = size(), i + nameLength + valueLength <= end {
            names.append(String(decoding: UnsafeRawBufferPointer(rebasing: b[i..<(i + nameLength)]), as: UTF8.self))
            i += nameLength + valueLength
        }
        return names
    }

    /// FCGI_GET_VALUES_RESULT for the variables pixelgate knows.
    func getValuesResult(_ names: [String]) -> [UInt8] {
        let values = ["FCGI_MAX_CONNS": String(maxConnections), "FCGI_MAX_REQS": String(maxConnections), "FCGI_MPXS_CONNS": "0"]
        var body: [UInt8] = []
        for name in names {
            guard let value = values[name] else { continue }
            body += [UInt8(name.utf8.count), UInt8(value.utf8.count)] + Array(name.utf8) + Array(value.utf8)
        }
        return record(type: 10, requestId: 0, body: body)
    }

    func endRequest(_ requestId: UInt16, protocolStatus: UInt8) -> [UInt8] {
        record(type: 3, requestId: requestId, body: [0, 0, 0, 0, protocolStatus, 0, 0, 0])
    }

    func record(type: UInt8, requestId: UInt16, body: [UInt8]) -> [UInt8] {
        let padding = (8 - body.count % 8) % 8
        return [1, type, UInt8(requestId >> 8), UInt8(requestId & 0xFF), UInt8(body.count >> 8), UInt8(body.count & 0xFF), UInt8(padding), 0]
            + body + [UInt8](repeating: 0, count: padding)
    }
}
