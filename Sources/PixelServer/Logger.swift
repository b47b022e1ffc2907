#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
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
///
/// The bits come from the kernel's CSPRNG (`getrandom`), 4 KiB at a time
/// rather than one system call per id. The first fill is one id's 16 bytes:
/// a CGI process makes one id and exits, and generating and faulting in 4 KiB
/// it never reads showed in its start-up. Each process (and each serving
/// thread) makes its own source after fork, so no two share a buffer.
public struct MessageIDSource {
    private var pool: [UInt64] = []
    private var used = 0

    public init() {}

    public mutating func next() -> String {
        if used + 2 > pool.count { refill() }
        defer { used += 2 }
        return UUIDText.v4(pool[used], pool[used + 1])
    }

    private mutating func refill() {
        let words = pool.isEmpty ? 2 : 512
        if pool.count != words { pool = [UInt64](repeating: 0, count: words) }
        pool.withUnsafeMutableBytes { buffer in
            var filled = 0
            while filled < buffer.count {
                let n = pixelgate_getrandom(buffer.baseAddress! + filled, buffer.count - filled)
                if n > 0 {
                    filled += n
                } else if errno != EINTR {
                    // Never expected on Linux ≥ 3.17; fall back to Swift's source.
                    var fallback = SystemRandomNumberGenerator()
                    for i in stride(from: filled, to: buffer.count, by: 8) {
                        buffer.storeBytes(of: fallback.next(), toByteOffset: i & ~7, as: UInt64.self)
                    }
                    filled = buffer.count
                }
            }
        }
        used = 0
    }
}
