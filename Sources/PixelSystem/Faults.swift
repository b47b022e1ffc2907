import Synchronization

/// Armed only while a test has faults planned: one relaxed load per call
/// otherwise.
private let armed = Atomic<Bool>(false)
private let planned = PThreadLocked<[Faults.Planned]>([])

/// The seam where tests make system calls fail: `Faults.inject("write",
/// errno: ENOSPC)` makes the next `Sys.writeAll` fail as a full disk would
/// (after writing half the bytes, as a short write does), so the spool's
/// promises (a throw leaves nothing of the line; what fails after the line
/// is in is reported, not thrown) are tested without filling a disk. Calls
/// are named as in `SystemError.operation`: open (also a pinned
/// directory's `openat`), fstat, fstatat, write, fdatasync, fsync, rename,
/// ftruncate, flock, mkdir, unlink.
///
/// Process-wide, but aimed: a fault strikes only calls on paths under the
/// prefix it was given (a test's own directory), so tests running beside it
/// are not touched.
public enum Faults {
    struct Planned {
        var call: String
        var pathPrefix: String
        var errno: Int32
        /// Matching calls still to let through before this one strikes.
        var after = 0
    }

    /// The next `times` calls of `call` on a path starting with `pathPrefix`
    /// fail with `errno`, once `after` such calls have gone through.
    public static func inject(_ call: String, under pathPrefix: String, errno: Int32, times: Int = 1, after: Int = 0) {
        planned.withLock {
            $0 += Array(repeating: Planned(call: call, pathPrefix: pathPrefix, errno: errno), count: times)
            if after > 0 { $0[$0.count - times].after = after }
        }
        armed.store(true, ordering: .relaxed)
    }

    /// Forgets the faults planned under `pathPrefix`.
    public static func clear(under pathPrefix: String) {
        planned.withLock { plan in
            plan.removeAll { $0.pathPrefix == pathPrefix }
            // Disarmed again once nothing is planned: one load a call, no lock.
            if plan.isEmpty { armed.store(false, ordering: .relaxed) }
        }
    }

    /// The errno planned for this call of `call` on `path`, if any (taken).
    @inline(__always)
    static func take(_ call: String, _ name: @autoclosure () -> String) -> Int32? {
        guard armed.load(ordering: .relaxed) else { return nil }
        let path = name()
        return planned.withLock { plan -> Int32? in
            guard let i = plan.firstIndex(where: { $0.call == call && path.hasPrefix($0.pathPrefix) }) else { return nil }
            if plan[i].after > 0 {
                plan[i].after -= 1
                return nil
            }
            return plan.remove(at: i).errno
        }
    }
}
