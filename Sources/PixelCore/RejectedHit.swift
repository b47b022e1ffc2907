/// A refused hit as kept in `rejected/`: when, why, and the query.
public struct RejectedHit: Sendable, Equatable {
    public var receivedAtMillis: Int64
    public var status: Int
    public var reason: String
    public var code: String
    public var route: String
    public var clientIP: String
    /// The query as received, cut to `RejectedHit.maxQueryBytes`.
    public var query: [UInt8]

    /// How much of a refused query is kept: enough to see what was wrong.
    public static let maxQueryBytes = 4096

    public init(receivedAtMillis: Int64, status: Int, reason: String, code: String, route: String, clientIP: String, query: [UInt8]) {
        self.receivedAtMillis = receivedAtMillis
        self.status = status
        self.reason = reason
        self.code = code
        self.route = route
        self.clientIP = clientIP
        self.query = Array(query.prefix(RejectedHit.maxQueryBytes))
    }

    /// One NDJSON line. Undecodable query bytes are shown as U+FFFD.
    public var recordLine: [UInt8] {
        var object = JSONObject()
        object["receivedAt"] = .string(ISO8601.format(millis: receivedAtMillis))
        object["status"] = .string(String(status))
        object["code"] = .string(code)
        object["reason"] = .string(reason)
        object["route"] = .string(route)
        object["ip"] = .string(clientIP)
        object["query"] = .string(String(decoding: query, as: UTF8.self))
        var out = JSONValue.object(object).jsonBytes
        out.append(UInt8(ascii: "\n"))
        return out
    }
}
