#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// The running process: its identity, its environment, its children.
public enum ProcessControl {
    /// This process's id. The corresponding C function is `getpid(2)`.
    public static var id: Int32 { getpid() }

    /// The parent's id; 1 once the parent has died. The corresponding C
    /// function is `getppid(2)`.
    public static var parentID: Int32 { getppid() }

    /// errno: why the last call that failed did.
    public static var lastError: Int32 { errno }

    /// The effective user id. The corresponding C function is `geteuid(2)`.
    public static var effectiveUser: UInt32 { geteuid() }
    public static var effectiveGroup: UInt32 { getegid() }

    /// The working directory, or nil when it has none (removed). The
    /// corresponding C function is `getcwd(3)`.
    public static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return String(cString: buffer)
    }

    /// Forks; 0 in the child, the child's id in the parent, -1 on failure.
    /// Only before any thread exists (the supervisor). Swift marks fork()
    /// unavailable, so CSystem's shim calls it.
    public static func fork() -> Int32 { pixelgate_fork() }

    /// In a worker: be sent SIGTERM when the parent dies, so workers never
    /// outlive a supervisor that was killed outright. The corresponding C
    /// function is `prctl(PR_SET_PDEATHSIG)`.
    public static func terminateWithParent() { _ = pixelgate_terminate_with_parent() }

    /// Ends the process at once with `status`. The corresponding C function
    /// is `exit(3)`.
    public static func exit(_ status: Int32) -> Never { Glibc.exit(status) }

    /// A child that ended, or why there was none.
    public enum Wait: Equatable {
        /// The child `pid` ended with the raw wait `status`.
        case ended(pid: Int32, status: Int32)
        /// A signal interrupted the wait (look at the stop flag).
        case interrupted
        /// No child has ended yet (`block: false`).
        case noneYet
        /// There are no children.
        case noChildren
    }

    /// Waits for any child to end. The corresponding C function is `waitpid(2)`.
    public static func waitForChild(block: Bool) -> Wait {
        var status: Int32 = 0
        let pid = waitpid(-1, &status, block ? 0 : WNOHANG)
        if pid > 0 { return .ended(pid: pid, status: status) }
        if pid == 0 { return .noneYet }
        return errno == ECHILD ? .noChildren : .interrupted
    }

    /// Asks `pid` to stop (SIGTERM).
    public static func terminate(_ pid: Int32) { _ = Glibc.kill(pid, SIGTERM) }

    /// Stops `pid` outright (SIGKILL).
    public static func kill(_ pid: Int32) { _ = Glibc.kill(pid, SIGKILL) }

    /// The environment variables whose names start with `prefix`: names
    /// and values in the environment's order (two arrays of `String`, not
    /// a dictionary, whose storage's metadata alone cost a CGI start more
    /// than reading every variable).
    public static func environment(prefix: String) -> (names: [String], values: [String]) {
        var names: [String] = [], values: [String] = []
        guard var cursor = pixelgate_environment() else { return (names, values) }
        let prefixLength = prefix.utf8.count
        while let entry = cursor.pointee {
            if strncmp(entry, prefix, prefixLength) == 0, let eq = strchr(entry, 0x3D) {
                // By bytes: a name and a value, split at the first `=`.
                let name = UnsafeBufferPointer(start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: eq - entry)
                names.append(String(decoding: name, as: UTF8.self))
                values.append(String(cString: eq + 1))
            }
            cursor += 1
        }
        return (names, values)
    }

    /// One environment variable, if set. The corresponding C function is
    /// `getenv(3)`.
    public static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// An environment variable's bytes in place, for the CGI transport's
    /// per-hit reads (no copy): valid until the environment changes, which
    /// pixelgate never does. `name` is a NUL-terminated literal.
    public static func variableBytes(_ name: StaticString) -> UnsafeBufferPointer<UInt8>? {
        let value = name.withUTF8Buffer { getenv(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self)) }
        return value.map { CStrings.bytes($0) }
    }

    /// Whether `fd` is a terminal. The corresponding C function is `isatty(3)`.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }
}
