#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// The kernel's random bytes.
public enum SystemRandom {
    /// Fills `buffer` from the kernel CSPRNG. The corresponding C function is
    /// `getrandom(2)`; should it ever fail (never expected on Linux ≥ 3.17),
    /// the rest comes from Swift's system generator.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var filled = 0
        while filled < buffer.count {
            let n = pixelgate_getrandom(buffer.baseAddress! + filled, buffer.count - filled)
            if n > 0 {
                filled += n
            } else if errno != EINTR {
                var fallback = SystemRandomNumberGenerator()
                while filled < buffer.count {
                    buffer[filled] = UInt8(truncatingIfNeeded: fallback.next())
                    filled += 1
                }
            }
        }
    }

    /// 64 bits from the kernel CSPRNG (`fill`): names nobody can guess
    /// ahead, and random draws.
    public static func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }
}
