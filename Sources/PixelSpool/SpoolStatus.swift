#if canImport(Glibc)
import Glibc
#endif

/// What a spool directory holds, for `pixelgate check` (and later `stats`).
public struct SpoolStatus: Sendable, Equatable {
    public var activeBytes = 0
    public var sealedFiles = 0
    public var sealedBytes = 0
    public var rejectedBytes = 0

    /// Reads the directory; a missing one is empty.
    public static func inspect(_ layout: SpoolLayout) throws(SpoolError) -> SpoolStatus {
        var status = SpoolStatus()
        guard try Sys.statIfExists(layout.directory) != nil else { return status }
        for name in try Sys.listDirectory(layout.directory) where name.hasSuffix(SpoolLayout.suffix) {
            guard let st = try Sys.statIfExists(layout.directory + "/" + name) else { continue }
            if name == SpoolLayout.activeName {
                status.activeBytes = Int(st.st_size)
            } else if SpoolLayout.isSealed(name) {
                status.sealedFiles += 1
                status.sealedBytes += Int(st.st_size)
            }
        }
        if try Sys.statIfExists(layout.rejectedDirectory) != nil {
            for name in try Sys.listDirectory(layout.rejectedDirectory) where name.hasSuffix(SpoolLayout.suffix) {
                if let st = try Sys.statIfExists(layout.rejectedDirectory + "/" + name) { status.rejectedBytes += Int(st.st_size) }
            }
        }
        return status
    }

    /// Checks that this process can create the spool and append to it: makes
    /// the directory if missing, takes the lock, and creates and removes a
    /// probe file. Touches no event file.
    public static func probeWritable(_ layout: SpoolLayout) throws(SpoolError) {
        try Sys.mkdirs(layout.directory)
        let lock = try Sys.open(layout.lockFile, O_RDWR | O_CREAT)
        defer { Sys.close(lock) }
        try Sys.flock(lock, LOCK_EX, layout.lockFile)
        try Sys.flock(lock, LOCK_UN, layout.lockFile)
        let probe = layout.directory + "/.probe-\(getpid())"
        let fd = try Sys.open(probe, O_WRONLY | O_CREAT | O_EXCL)
        Sys.close(fd)
        try Sys.unlink(probe)
        if try Sys.statIfExists(layout.activeFile) != nil {
            // Another user may own the active file: can we append to it?
            Sys.close(try Sys.open(layout.activeFile, O_RDWR | O_APPEND))
        }
    }
}
