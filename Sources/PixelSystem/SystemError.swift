#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: what was attempted, on which path, and errno; the
/// one error type of PixelSystem (the spool's `SpoolError` is this type).
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32
    /// Set when a path is refused as unsafe (the spool, SPEC §7a): what is wrong
    /// and how to fix it. Hits then answer 500, not 503: retrying will not
    /// help until the operator acts.
    public var unsafeBecause: String?

    public init(_ operation: String, _ path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// A spool refused as unsafe.
    public init(unsafe path: String, because reason: String) {
        self.init("refusing spool directory", path, errno: EPERM)
        unsafeBecause = reason
    }

    /// The system's words for errno `code`. The corresponding C function
    /// is `strerror(3)`.
    public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    public var description: String {
        if let unsafeBecause { return "\(operation) \(path): \(unsafeBecause)" }
        return "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
