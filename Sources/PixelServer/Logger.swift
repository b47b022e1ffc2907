#if canImport(Glibc)
import Glibc
#endif
import PixelCore

/// Writes log lines to stderr, which every web server keeps (Apache's and
/// nginx's error logs, the journal under systemd).
public struct Logger: Sendable {
    public init() {}

    public func log(_ level: HandlerOutcome.Level, _ message: String) {
        let line = LogLine.format(millis: Clock.nowMillis(), pid: getpid(), level: level.rawValue, message: message)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// The wall clock and fresh message ids, the two things the pure core is
/// given rather than takes.
public enum Clock {
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

public struct MessageIDSource {
    private var generator = SystemRandomNumberGenerator()
    public init() {}
    public mutating func next() -> String { UUIDText.v4(generator.next(), generator.next()) }
}
