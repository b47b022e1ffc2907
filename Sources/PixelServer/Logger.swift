#if canImport(Glibc)
import Glibc
#endif
import PixelCore
import PixelSpool

/// Writes log lines to stderr, which every web server keeps (Apache's and
/// nginx's error logs, the journal under systemd).
public struct Logger: Sendable {
    public init() {}

    public func log(_ level: HandlerOutcome.Level, _ message: String) {
        let line = LogLine.format(millis: SystemClock.nowMillis(), pid: getpid(), level: level.rawValue, message: message)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// Fresh message ids: random UUIDs, which the pure core is given rather than makes.
public struct MessageIDSource {
    private var generator = SystemRandomNumberGenerator()
    public init() {}
    public mutating func next() -> String { UUIDText.v4(generator.next(), generator.next()) }
}
