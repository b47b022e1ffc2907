/// What a pixel path ends with (SPEC §1): the two event routes, and click
/// links, which record a track event and redirect.
public enum PixelRoute: String, Sendable, CaseIterable {
    case page
    case track
    case click

    /// The event a hit on this route records.
    public var eventType: EventType { self == .page ? .page : .track }
}
