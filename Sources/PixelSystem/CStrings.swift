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

    /// The index of the first `byte` in `buffer` at or after `from`, or nil.
    /// The corresponding C function is `memchr(3)` (vectorised: spool files
    /// are megabytes of lines).
    @inlinable
    public static func firstIndex(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard from < buffer.count, let base = buffer.baseAddress,
              let hit = memchr(base + from, Int32(byte), buffer.count - from) else { return nil }
        return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }
}
