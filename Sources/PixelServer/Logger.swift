import PixelCore
import PixelSystem

/// Writes log lines to stderr, which every web server keeps (Apache's and
/// nginx's error logs, the journal under systemd).
public struct Logger: Sendable {
    public init() {}

    public func log(_ level: LogLevel, _ message: String) {
        let line = LogLine.format(millis: SystemClock.nowMillis(), pid: ProcessControl.id, level: level.rawValue, message: message)
        StandardStream.error.write(line)
    }
}
