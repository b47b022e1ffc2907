/// Why an accepted event could not be kept. `detail` goes to the log only;
/// the client gets `503 event not stored, try again later`.
public struct SinkError: Error, Sendable, Equatable {
    public var detail: String
    /// The sink cannot be used as configured (an unsafe spool directory):
    /// the hit answers 500, since trying again will not help.
    public var isMisconfiguration: Bool
    public init(_ detail: String, isMisconfiguration: Bool = false) {
        self.detail = detail
        self.isMisconfiguration = isMisconfiguration
    }
}

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

/// Where accepted events go: the spool, a data plane, or memory in tests.
///
/// Contract: `store` returns only once the event is kept as durably as the
/// sink promises (for the spool: the line is in the file); when it throws,
/// nothing of the event is kept and the hit is answered 503. Implementations
/// are used from one thread at a time (one request in hand per process).
public protocol EventSink: AnyObject {
    func store(_ event: PixelEvent) throws(SinkError)
    /// Keeps a refused hit where the sink keeps them; best effort, since the
    /// answer to a refused hit does not depend on it. Returns a note for the
    /// log when the hit could not be kept.
    func recordRejected(_ hit: RejectedHit) -> String?
}

/// Keeps everything in memory; for tests and benchmarks.
public final class InMemorySink: EventSink {
    public private(set) var events: [PixelEvent] = []
    public private(set) var lines: [[UInt8]] = []
    public private(set) var rejected: [RejectedHit] = []
    /// When set, `store` throws it (to test the 503 path).
    public var failure: SinkError?

    public init() {}

    public func store(_ event: PixelEvent) throws(SinkError) {
        if let failure { throw failure }
        events.append(event)
        lines.append(event.recordLine)
    }

    public func recordRejected(_ hit: RejectedHit) -> String? {
        rejected.append(hit)
        return nil
    }
}
