#if canImport(Glibc)
import Glibc
#endif

/// NUL-terminated strings that C hands over.
public enum CStrings {
    /// The bytes of `string` before its NUL, in place. The corresponding C
    /// function is `strlen(3)` (vectorised: queries are up to 16 KiB).
    @inlinable
    public static func bytes(_ string: UnsafePointer<CChar>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: UnsafeRawPointer(string).assumingMemoryBound(to: UInt8.self), count: strlen(string))
    }
}
