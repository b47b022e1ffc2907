/// Where accepted events go.
public enum SinkKind: String, Sendable, CaseIterable {
    case spool
    case forward
}
