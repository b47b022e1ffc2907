/// Why a hit was answered as usual but stored nowhere, by the operator's
/// choice: its class's action is `drop` (`PIXELGATE_HIT_CLASSES`), or the
/// visitor asked not to be tracked and `PIXELGATE_CONSENT` is `drop`.
/// Counted by the sink; `stats` shows the counts. The order of the cases is
/// the layout of the spool's `.dropped` file: add new ones at the end.
public enum DroppedHit: String, Sendable, CaseIterable {
    case human
    case mailProxy = "mail-proxy"
    case prefetch
    case bot
    case consent

    public init(_ hitClass: HitClass) {
        switch hitClass {
        case .human: self = .human
        case .mailProxy: self = .mailProxy
        case .prefetch: self = .prefetch
        case .bot: self = .bot
        }
    }
}
