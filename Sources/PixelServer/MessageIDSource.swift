import PixelCore
import PixelSystem

/// Fresh message ids: random UUIDs, which the pure core is given rather than makes.
///
/// The bits come from the kernel's CSPRNG, 4 KiB at a time rather than one
/// system call per id. The first fill is one id's 16 bytes: a CGI process
/// makes one id and exits, and generating and faulting in 4 KiB it never
/// reads showed in its start-up. Each process (and each serving thread)
/// makes its own source after fork, so no two share a buffer.
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
        pool.withUnsafeMutableBytes { SystemRandom.fill($0) }
        used = 0
    }
}
