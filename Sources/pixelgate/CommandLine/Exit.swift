import PixelSpool

/// Exit codes a cron wrapper or systemd can act on (sysexits.h's where one
/// fits); the global usage text lists what they mean for drain.
enum Exit {
    static let ok: Int32 = 0
    static let localFailure: Int32 = 1
    static let usage: Int32 = 2
    static let allRefused: Int32 = 65  // EX_DATAERR
    static let unavailable: Int32 = 75  // EX_TEMPFAIL
    static let configuration: Int32 = 78  // EX_CONFIG

    /// A drain pass's exit code: why it stopped, if it did.
    static func of(_ stop: DrainStop?) -> Int32 {
        switch stop {
        case nil, .stopped?: return ok
        case .unavailable?: return unavailable
        case .misconfigured?: return configuration
        case .localFailure?: return localFailure
        }
    }
}
