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
