/// When the spool calls `fdatasync` after appending.
public enum FsyncPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Leave flushing to the kernel (an OS crash may lose its last seconds).
    case never
    /// After every event: nothing answered 200 is lost even to power loss.
    case always
    /// At most once per interval across all writers of a spool.
    case interval(millis: Int64)

    public var description: String {
        switch self {
        case .never: return "never"
        case .always: return "always"
        case .interval(let ms): return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
        }
    }
}
