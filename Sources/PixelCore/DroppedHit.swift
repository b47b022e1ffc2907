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

/// Why an accepted hit's event could not be kept: answered 503 (the spool
/// failed: disk full, read-only, permissions) or 500 (the settings or the
/// spool's path are wrong). The order is the layout of the spool's
/// `.unstored` file: add new ones at the end.
public enum UnstoredHit: String, Sendable, CaseIterable {
    case unavailable
    case misconfigured
}

/// A hit the sink counts rather than stores (`EventSink.count`).
public enum HitCount: Sendable, Equatable {
    /// Answered as usual, stored nowhere by the operator's choice.
    case dropped(DroppedHit)
    /// Answered 4xx; the reason is `PixelError.code`.
    case refused(code: String)
    /// Answered 503 or 500: the event could not be kept.
    case unstored(UnstoredHit)
}
