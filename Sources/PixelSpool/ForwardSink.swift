import PixelSystem
import PixelCore

/// `PIXELGATE_SINK=forward`: each event is POSTed to the data plane at once;
/// when the data plane cannot take it now, or the URL or credentials are
/// wrong, it is spooled for the drain, so the answer is still 200 and
/// nothing is lost. An event the data plane refuses is kept in
/// `rejected/upstream.ndjson` with its answer (or, if that cannot be
/// written, spooled), the same rules as the drain's (SPEC §6).
public final class ForwardSink: EventSink {
    let client: DataPlane
    let spool: SpoolSink
    let log: (LogLevel, String) -> Void

    public init(client: DataPlane, spool: SpoolSink, log: @escaping (LogLevel, String) -> Void) {
        self.client = client
        self.spool = spool
        self.log = log
    }

    public func store(_ event: PixelEvent) throws(SinkError) {
        let body = DataPlaneClient.batchBody([event.eventJSON])
        switch client.send(writeKey: event.writeKey, body: body) {
        case .delivered:
            var routes = RouteCounts()
            routes.add(line: event.recordLine.dropLast())
            note { writer, now throws(SpoolError) in try writer.recordDelivery(events: 1, bytes: body.count, routes: routes, nowMillis: now) }
            return
        case .retry(let reason, _, let status, _):
            log(.warn, "data plane unavailable (\(reason)); event spooled for the drain")
            note { writer, now throws(SpoolError) in try writer.recordDeliveryFailure(.unavailable, status: status, nowMillis: now) }
            try spool.store(event)
        case .misdirected(let status, let reason):
            log(.error, "forwarding: \(reason); event spooled for the drain")
            note { writer, now throws(SpoolError) in try writer.recordDeliveryFailure(.misdirected, status: status, nowMillis: now) }
            try spool.store(event)
        case .refused(let status, let answer):
            let record = RejectedRecord.refusedEvent(writeKey: event.writeKey, event: event.eventJSON, status: status, click: event.isClick,
                                                     answer: answer, atMillis: SystemClock.nowMillis())
            do {
                _ = try spool.writer.appendRejected(record, file: SpoolLayout.rejectedUpstreamName)
                log(.warn, "data plane refused an event (HTTP \(status)): \(answer.prefix(200)); kept in rejected/\(SpoolLayout.rejectedUpstreamName)")
                // Counted once kept: one spooled instead comes back through the drain.
                note { writer, now throws(SpoolError) in try writer.recordDeliveryFailure(.refused, status: status, refusedEvents: 1, nowMillis: now) }
            } catch {
                // Kept all the same: the drain will offer it again.
                log(.error, "data plane refused an event (HTTP \(status)) and rejected/ could not keep it (\(error)); event spooled")
                try spool.store(event)
            }
        }
    }

    /// Adds to the spool's delivery totals; a failure to count is logged,
    /// never the event's loss.
    func note(_ change: (SpoolWriter, Int64) throws(SpoolError) -> Void) {
        do {
            try change(spool.writer, SystemClock.nowMillis())
        } catch {
            log(.warn, "delivery not counted in \(spool.writer.layout.deliveryFile): \(error)")
        }
    }

    public func count(_ hit: HitCount) -> String? {
        spool.count(hit)
    }

    /// Forwarding keeps what the data plane cannot take in the spool, so
    /// the spool decides whether a hit can be kept.
    public func unavailability(minimumFreeBytes: Int) -> String? {
        spool.unavailability(minimumFreeBytes: minimumFreeBytes)
    }

    public func recordRejected(_ hit: RejectedHit) -> String? {
        spool.recordRejected(hit)
    }

    public func dailySecret(day: Int64) throws(SinkError) -> [UInt8] {
        try spool.dailySecret(day: day)
    }
}
