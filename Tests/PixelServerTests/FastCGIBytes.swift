/// FastCGI records, as a web server sends them, for tests.
enum FastCGIBytes {
    static func record(_ type: UInt8, id: UInt16 = 1, _ body: [UInt8]) -> [UInt8] {
        let padding = (8 - body.count % 8) % 8
        return [1, type, UInt8(id >> 8), UInt8(id & 0xFF), UInt8(body.count >> 8), UInt8(body.count & 0xFF), UInt8(padding), 0]
            + body + [UInt8](repeating: 0, count: padding)
    }

    static func pair(_ name: String, _ value: String) -> [UInt8] {
        func size(_ n: Int) -> [UInt8] { n < 128 ? [UInt8(n)] : [UInt8(0x80 | (n >> 24)), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] }
        return size(name.utf8.count) + size(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
    }

    /// BEGIN_REQUEST (responder; `keep`: FCGI_KEEP_CONN), the parameters,
    /// their end, and an empty stdin.
    static func request(query: String, keep: Bool = false, role: UInt8 = 1) -> [UInt8] {
        let params = pair("REQUEST_METHOD", "GET") + pair("QUERY_STRING", query) + pair("SCRIPT_NAME", "/pixel/v1/track")
            + pair("REQUEST_URI", "/pixel/v1/track?" + query) + pair("REMOTE_ADDR", "127.0.0.1")
        // A record holds at most 65,535 bytes: long parameters take several.
        let paramRecords = stride(from: 0, to: params.count, by: 65_528).flatMap {
            record(4, Array(params[$0..<min($0 + 65_528, params.count)]))
        }
        return record(1, [0, role, keep ? 1 : 0, 0, 0, 0, 0, 0])
            + paramRecords + record(4, []) + record(5, [])
    }
}
