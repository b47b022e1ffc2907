/// The two kinds of event the Pixel API records.
public enum EventType: String, Sendable {
    case page
    case track
}
