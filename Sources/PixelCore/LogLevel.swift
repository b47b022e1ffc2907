/// How much a log line matters: pixelgate's one scale, for hits, the
/// spool, the drain and the server alike. `PIXELGATE_LOG_LEVEL` names the
/// least that is written; `debug` adds a line for every stored event.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    case debug, info, warn, error

    var rank: Int {
        switch self {
        case .debug: return 0
        case .info: return 1
        case .warn: return 2
        case .error: return 3
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }

    /// The syslog priority journald reads from a `<N>` line prefix.
    public var syslogPriority: Int {
        switch self {
        case .debug: return 7
        case .info: return 6
        case .warn: return 4
        case .error: return 3
        }
    }
}

/// Which refused-hit lines reach the log (`PIXELGATE_LOG_REFUSED`): a site
/// sending a broken pixel, or a bot, can fill a web server's error log with
/// them. The spool's counters (`pixelgate stats`) count every one whatever
/// this says.
public enum RefusedLogging: Sendable, Equatable, CustomStringConvertible {
    case all
    case none
    /// One line in `n`, chosen at random (a CGI process sees one hit, so
    /// there is no count to take every n-th by).
    case oneIn(Int)

    /// Largest `n` of `oneIn`.
    public static let maxSampling = 1_000_000

    public init?(_ text: String) {
        switch text.lowercased() {
        case "all": self = .all
        case "none", "off": self = .none
        default:
            guard let n = Int(text), (1...RefusedLogging.maxSampling).contains(n) else { return nil }
            self = n == 1 ? .all : .oneIn(n)
        }
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .none: return "none"
        case .oneIn(let n): return "\(n)"
        }
    }
}
