/// Where accepted events go: the spool, a data plane, or memory in tests.
///
/// Contract: `store` returns only once the event is kept as durably as the
/// sink promises (for the spool: the line is in the file; what fails after
/// that, an interval sync or a seal, is logged, not thrown); when it throws,
/// the sink did not keep the event and the hit is answered 503, for the
/// client to send again. (Forwarding throws only when the spool it falls
/// back on fails. When a forward times out after the data plane took the
/// event, the spooled copy is sent again by the drain: the data plane gets
/// it twice, with the same messageId.) Implementations are used from one
/// thread at a time: each serving thread (a CGI process,
/// a FastCGI worker's thread) has its own responder and sink, and one
/// request in hand.
public protocol EventSink: AnyObject {
    func store(_ event: PixelEvent) throws(SinkError)
    /// Keeps a refused hit where the sink keeps them; best effort, since the
    /// answer to a refused hit does not depend on it. Returns a note for the
    /// log when the hit could not be kept.
    func recordRejected(_ hit: RejectedHit) -> String?
    /// Counts a hit dropped by choice, refused, or not stored (`HitCount`),
    /// for `pixelgate stats`; best effort. Returns a note for the log when
    /// it could not be counted.
    func count(_ hit: HitCount) -> String?
    /// Why an event could not be kept now, or nil when one could: the
    /// health answer. `minimumFreeBytes` is room for the largest event.
    func unavailability(minimumFreeBytes: Int) -> String?
    /// The secret of `day` (days since the epoch, UTC) that anonymous ids
    /// are derived with (`PIXELGATE_DERIVE_ANONYMOUS_ID=daily`): made at
    /// random once a day, the day before's forgotten. Throws when it can be
    /// neither read nor made (the hit is then answered as unstored).
    func dailySecret(day: Int64) throws(SinkError) -> [UInt8]
}
