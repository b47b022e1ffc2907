/// Keeps everything in memory; for tests and benchmarks.
public final class InMemorySink: EventSink {
    public private(set) var events: [PixelEvent] = []
    public private(set) var lines: [[UInt8]] = []
    public private(set) var rejected: [RejectedHit] = []
    public private(set) var dropped: [DroppedHit] = []
    public private(set) var refusedCodes: [String] = []
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

    public func countDropped(_ reason: DroppedHit) -> String? {
        dropped.append(reason)
        return nil
    }

    public func unavailability(minimumFreeBytes: Int) -> String? {
        failure.map(\.detail)
    }

    public func countRefused(_ code: String) -> String? {
        refusedCodes.append(code)
        return nil
    }
}
