/// A RudderStack data plane as the drain and forwarding see it: something
/// that takes a batch body for a write key and says what it made of it.
/// `DataPlaneClient` is the real one (libcurl, `/v1/batch`);
/// `InMemoryDataPlane` is the double for tests.
public protocol DataPlane: AnyObject {
    /// Readies a batch body for the wire (gzipped when that is on). The
    /// drain calls it from its planning thread while another batch is being
    /// sent: it must not touch what `send` changes.
    func prepare(_ body: [UInt8]) -> PreparedBody

    /// POSTs one batch body (`{"batch":[…]}`) for `writeKey`; the answer
    /// decides whether its events are delivered, to be retried, refused
    /// (kept in `rejected/`) or held until the configuration is fixed.
    func send(writeKey: String, prepared: PreparedBody) -> DeliveryResult
}

extension DataPlane {
    /// Prepares and sends `body` in one go (forwarding: one event a batch).
    public func send(writeKey: String, body: [UInt8]) -> DeliveryResult {
        send(writeKey: writeKey, prepared: prepare(body))
    }
}
