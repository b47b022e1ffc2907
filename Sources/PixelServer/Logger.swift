import PixelCore
import PixelSystem

/// Writes log lines to stderr, which every web server keeps (Apache's and
/// nginx's error logs, the journal under systemd).
///
/// Lines under `threshold` (`PIXELGATE_LOG_LEVEL`) are not written. When
/// stderr is the journal (systemd names it in `JOURNAL_STREAM`), each line
/// starts with its syslog priority (`<4>` for a warning), which journald
/// takes as the entry's priority: `journalctl -p warning` then finds them.
public struct Logger: Sendable {
    public var threshold: LogLevel = .info
    /// Which refused-hit lines are written (`PIXELGATE_LOG_REFUSED`).
    public var refused: RefusedLogging = .all
    public let toJournal: Bool
    /// stderr is a terminal: a person reads the lines as they come
    /// (`LogLine.forTerminal`), not a log file.
    public let toTerminal: Bool

    public init() {
        toJournal = Logger.stderrIsJournal(ProcessControl.variable("JOURNAL_STREAM"))
        toTerminal = !toJournal && StandardStream.error.isTerminal
    }

    /// This logger with the levels the settings give.
    public func following(_ configuration: PixelConfiguration) -> Logger {
        var logger = self
        logger.threshold = configuration.logLevel
        logger.refused = configuration.refusedLogging
        return logger
    }

    public func writes(_ level: LogLevel) -> Bool { level >= threshold }

    public func log(_ level: LogLevel, _ message: String) {
        guard level >= threshold else { return }
        if toTerminal {
            StandardStream.error.write(LogLine.forTerminal(level: level, message: message))
            return
        }
        var line = LogLine.format(millis: SystemClock.nowMillis(), pid: ProcessControl.id, level: level.rawValue, message: message)
        if toJournal { line.insert(contentsOf: Array("<\(level.syslogPriority)>".utf8), at: 0) }
        StandardStream.error.write(line)
    }

    /// A refused hit's line, written or not as `refused` says; a sampled
    /// line says it stands for others.
    public func logRefusal(_ level: LogLevel, _ message: String) {
        switch refused {
        case .all: log(level, message)
        case .none: return
        case .oneIn(let n):
            guard writes(level), Logger.chance(oneIn: n) else { return }
            log(level, message + " (one refused-hit line in \(n) is logged)")
        }
    }

    static func chance(oneIn n: Int) -> Bool {
        SystemRandom.next() % UInt64(n) == 0
    }

    /// Whether `JOURNAL_STREAM` ("device:inode") names the file on stderr.
    static func stderrIsJournal(_ stream: String?) -> Bool {
        guard let stream, let colon = stream.firstIndex(of: ":"),
              let device = UInt64(stream[..<colon]), let inode = UInt64(stream[stream.index(after: colon)...]),
              let st = try? Sys.fstat(2, "standard error") else { return false }
        return UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }
}
