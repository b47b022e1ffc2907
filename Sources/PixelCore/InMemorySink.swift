/// Keeps everything in memory; for tests and benchmarks.
public final class InMemorySink: EventSink {
    public private(set) var events: [PixelEvent] = []
    public private(set) var lines: [[UInt8]] = []
    public private(set) var rejected: [RejectedHit] = []
    public private(set) var counted: [HitCount] = []
    public var dropped: [DroppedHit] { counted.compactMap { if case .dropped(let reason) = $0 { reason } else { nil } } }
    public var refusedCodes: [String] { counted.compactMap { if case .refused(let code) = $0 { code } else { nil } } }
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

    public func count(_ hit: HitCount) -> String? {
        counted.append(hit)
        return nil
    }

    public func unavailability(minimumFreeBytes: Int) -> String? {
        failure.map(\.detail)
    }

    /// How many times `dailySecret` was asked for.
    public private(set) var secretRequests = 0

    /// A secret a day, the same for every sink (tests compare across them).
    public func dailySecret(day: Int64) throws(SinkError) -> [UInt8] {
        secretRequests += 1
        if let failure { throw failure }
        return SHA256.hash(Array("in-memory secret of day \(day)".utf8))
    }


}
