import PixelSystem

/// Replaces the file at `path` with `bytes` in one rename, so that a
/// reader sees the old file or the new one, never a part: `stats --output`
/// (read by monitoring) and `ranges import --output` (read by every hit).
/// The new file is 0644 whatever the umask (root's 077 would otherwise
/// leave the web server's user a file it cannot read in place of one it
/// could), and on disk before the rename (a crash must not leave an empty
/// file under the name).
func replaceFile(_ path: String, with bytes: [UInt8]) throws(SystemError) {
    // A name nobody can guess ahead (in a directory others may write,
    // a link planted there would otherwise fail every run).
    let temporary = path + ".\(ProcessControl.id)-\(String(SystemRandom.next(), radix: 16)).tmp"
    let fd = try Sys.open(temporary, OpenFlag.writeOnly | OpenFlag.create | OpenFlag.exclusive, 0o644)
    // O_EXCL: never through a link someone left at the temporary's name.
    do throws(SystemError) {
        defer { Sys.close(fd) }
        try Sys.fchmod(fd, 0o644, temporary)
        try Sys.writeAll(fd, bytes, temporary)
        try Sys.fdatasync(fd, temporary)
    } catch {
        try? Sys.unlink(temporary)
        throw error
    }
    do throws(SystemError) {
        try Sys.rename(temporary, path)
    } catch {
        try? Sys.unlink(temporary)
        throw error
    }
}
