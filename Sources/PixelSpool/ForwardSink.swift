import PixelCore

/// `PIXELGATE_SINK=forward`: each event is POSTed to the data plane at once;
/// when the data plane cannot take it now, it is spooled for the drain, so
/// the answer is still 200 and nothing is lost. An event the data plane
/// refuses (4xx other than 408/429) is kept in `rejected/` with its answer.
public final class ForwardSink: EventSink {
    let client: DataPlaneClient
    let spool: SpoolSink
    let log: (HandlerOutcome.Level, String) -> Void

    public init(client: DataPlaneClient, spool: SpoolSink, log: @escaping (HandlerOutcome.Level, String) -> Void) {
        self.client = client
        self.spool = spool
        self.log = log
    }

    public func store(_ event: PixelEvent) throws(SinkError) {
        let line = event.recordLine
        let body = DataPlaneClient.batchBody([event.eventJSON])
        switch client.send(writeKey: event.writeKey, body: body) {
        case .delivered:
            return
        case .retry(let reason, _):
            log(.warn, "data plane unavailable (\(reason)); event spooled for the drain")
            try spool.store(event)
        case .rejected(let status, let answer):
            log(.warn, "data plane refused an event (HTTP \(status)): \(answer.prefix(200)); kept in rejected/\(SpoolLayout.rejectedUpstreamName)")
            var record = JSONObject()
            record["status"] = .string(String(status))
            record["answer"] = .string(answer)
            record["line"] = .string(String(decoding: line.dropLast(), as: UTF8.self))
            var bytes = JSONValue.object(record).jsonBytes
            bytes.append(0x0A)
            // The event must be kept somewhere: if rejected/ cannot take it,
            // it is not answered 200.
            guard (try? spool.writer.appendRejected(bytes, file: SpoolLayout.rejectedUpstreamName)) == true else {
                throw SinkError("refused by the data plane (HTTP \(status)) and rejected/ could not keep it")
            }
        }
    }

    public func recordRejected(_ hit: RejectedHit) -> String? {
        spool.recordRejected(hit)
    }
}
