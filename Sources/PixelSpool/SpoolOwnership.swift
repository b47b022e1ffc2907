import PixelSystem

/// Who may use a spool directory, and the modes of what is made in it
/// (SPEC §7a).
///
/// The spool holds visitors' addresses and write keys, and other users of a
/// shared host may be hostile. So the directory must be a real directory
/// (not a symbolic link) that the running user or root owns and that no one
/// outside its owner and group may write: otherwise someone else could have
/// made it first, or could plant links in it. Everything pixelgate creates
/// there is private whatever the umask: mode 0600 (directories 0700), or
/// 0660 (2770) when the spool directory is set-group-ID, which is how the
/// documented set-up shares a spool between the web server's user and the
/// drain's. Files root creates there (`pixelgate check`, a drain run by
/// hand) are given to the directory's owner and group, so that they never
/// lock the web server out.
public struct SpoolOwnership: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    /// The directory is set-group-ID: files are shared with its group.
    public var groupShared: Bool
    /// The spool directory, opened once and checked through its descriptor:
    /// every file in it is reached through this, never by a path.
    public let directory: PinnedDirectory

    public static func == (a: SpoolOwnership, b: SpoolOwnership) -> Bool {
        a.uid == b.uid && a.gid == b.gid && a.groupShared == b.groupShared
    }

    public var fileMode: UInt32 { groupShared ? 0o660 : 0o600 }
    public var directoryMode: UInt32 { groupShared ? 0o2770 : 0o700 }

    /// Checks the spool directory at `path`; throws an unsafe-spool error
    /// naming what is wrong and the fix, or the system error.
    public static func verify(_ path: String) throws(SpoolError) -> SpoolOwnership {
        try checkSpelling(path)
        guard let st = try Sys.lstatIfExists(path) else { throw SpoolError("lstat", path, errno: Errno.noEntry) }
        return try verify(path, st)
    }

    /// The directory at `path` opened (never through a link) and checked
    /// again through the descriptor: it must be the one `lstat` saw, and
    /// pass the same checks, so nothing swapped in between is used.
    static func pin(_ path: String, as seen: FileStatus) throws(SpoolError) -> (PinnedDirectory, FileStatus) {
        let directory: PinnedDirectory
        do throws(SpoolError) {
            directory = try PinnedDirectory.open(path)
        } catch where error.errno == Errno.loop || error.errno == Errno.notDirectory {
            throw SpoolError(unsafe: path, because: "it was replaced (by a link?) while it was checked; set PIXELGATE_SPOOL_DIR to the real directory")
        }
        let st = try directory.status()
        guard st.st_dev == seen.st_dev && st.st_ino == seen.st_ino else {
            throw SpoolError(unsafe: path, because: "it was replaced while it was checked; look at who else can write its parent")
        }
        return (directory, st)
    }

    /// An absolute path without `.` or `..` parts, doubled or trailing
    /// slashes (`SpoolLayout` removes those), and not `/` itself: a path
    /// whose every directory the checks below can name.
    static func checkSpelling(_ path: String) throws(SpoolError) {
        guard path.hasPrefix("/") else {
            throw SpoolError(unsafe: path.isEmpty ? "(none)" : path, because: "PIXELGATE_SPOOL_DIR must name an absolute path")
        }
        if !isPlainAbsolute(path) {
            throw SpoolError(unsafe: path, because: "PIXELGATE_SPOOL_DIR must name a directory by a plain absolute path (no ., .. or //), not /")
        }
    }

    /// Whether every part of `path` after its leading `/` is a name: not
    /// empty (`//`, a trailing `/`, `/` alone), `.` or `..`. By bytes: the
    /// start of every CGI hit checks it, and splitting the path into
    /// substrings cost 26,000 instructions.
    static func isPlainAbsolute(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { bytes in
            var length = 0
            var allDots = true
            var i = 1
            while i <= bytes.count {
                if i == bytes.count || bytes[i] == UInt8(ascii: "/") {
                    if length == 0 || (allDots && length <= 2) { return false }
                    length = 0
                    allDots = true
                } else {
                    length += 1
                    if bytes[i] != UInt8(ascii: ".") { allDots = false }
                }
                i += 1
            }
            return true
        }
    }

    /// Where `path` ends before its last `/`, if it has one (by bytes: the
    /// search by `Character` cost a CGI start 4,000 instructions a call).
    static func lastSlash(_ path: String) -> String.Index? {
        path.utf8.lastIndex(of: UInt8(ascii: "/"))
    }

    /// `verify` of the directory at `path`, whose `lstat` is `seen`.
    static func verify(_ path: String, _ seen: FileStatus) throws(SpoolError) -> SpoolOwnership {
        let kind = seen.st_mode & ModeBits.typeMask
        if kind == ModeBits.symbolicLink {
            throw SpoolError(unsafe: path, because: "it is a symbolic link; set PIXELGATE_SPOOL_DIR to the real directory")
        }
        guard kind == ModeBits.directory else { throw SpoolError("spool directory", path, errno: Errno.notDirectory) }
        let (directory, st) = try pin(path, as: seen)
        let me = ProcessControl.effectiveUser
        if st.st_uid != me && st.st_uid != 0 {
            throw SpoolError(unsafe: path, because: "it is owned by uid \(st.st_uid), neither this user (uid \(me)) nor root; "
                + "another user may have made it. Use a directory of your own, e.g. "
                + "install -d -m 2770 -o root -g <web server group> /var/spool/pixelgate")
        }
        if st.st_mode & ModeBits.othersWrite != 0 {
            throw SpoolError(unsafe: path, because: "others may write to it (mode \(String(st.st_mode & 0o7777, radix: 8))); "
                + "chmod o-w it (2770 shares it with its group)")
        }
        try verifyPathTo(path, spoolOwner: st.st_uid)
        return SpoolOwnership(uid: st.st_uid, gid: st.st_gid, groupShared: st.st_mode & ModeBits.setGroupID != 0, directory: directory)
    }

    /// The directories on the way to the spool, as written and as resolved:
    /// whoever may rename an entry in one of them could swap the spool
    /// for a link after it was checked. Each must belong to root, this
    /// user or the spool's owner, and others may write to it only when it
    /// is sticky (`/tmp`, `/var/tmp`: there only an entry's owner renames
    /// it).
    static func verifyPathTo(_ path: String, spoolOwner: UInt32) throws(SpoolError) {
        let slash = lastSlash(path) ?? path.startIndex
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        let me = ProcessControl.effectiveUser
        // One lstat a directory (a CGI start pays each); the path is
        // resolved, and its real directories checked too, only when a link
        // is met on the way.
        var ancestors = chain(parent)
        var resolvedChecked = false
        var i = 0
        while i < ancestors.count {
            let dir = ancestors[i]
            i += 1
            guard let st = try Sys.lstatIfExists(dir) else { continue }
            // A directory, or a link, of someone else's: they could point it
            // elsewhere once the spool is checked.
            if st.st_uid != 0 && st.st_uid != me && st.st_uid != spoolOwner {
                throw SpoolError(unsafe: path, because: "\(dir) on its path belongs to uid \(st.st_uid), who could replace the spool; "
                    + "use a directory whose parents are root's or yours")
            }
            if st.st_mode & ModeBits.typeMask == ModeBits.symbolicLink {
                // The link's own directory is on this chain; its target's
                // directories are on the resolved one.
                if !resolvedChecked {
                    guard let resolved = Sys.realpath(parent) else {
                        throw SpoolError(unsafe: path, because: "the links on its path do not resolve (\(dir)); name the real directory")
                    }
                    ancestors += chain(resolved)
                    resolvedChecked = true
                }
                continue
            }
            if st.st_mode & ModeBits.othersWrite != 0 && st.st_mode & ModeBits.sticky == 0 {
                throw SpoolError(unsafe: path, because: "others may write to \(dir) on its path and could replace the spool; "
                    + "chmod o-w (or +t) \(dir)")
            }
        }
    }

    /// `/a/b/c`, `/a/b`, `/a`, `/`.
    static func chain(_ dir: String) -> [String] {
        var out: [String] = []
        var current = dir
        while true {
            out.append(current)
            guard current != "/", let slash = lastSlash(current) else { break }
            current = slash == current.startIndex ? "/" : String(current[..<slash])
        }
        return out
    }

    /// Makes the spool directory if it is missing (private, whatever the
    /// umask), then verifies it.
    public static func prepare(_ path: String) throws(SpoolError) -> SpoolOwnership {
        try checkSpelling(path)
        if let st = try Sys.lstatIfExists(path) { return try verify(path, st) }
        let slash = lastSlash(path)!  // checkSpelling: absolute
        if slash != path.startIndex { try Sys.mkdirs(String(path[..<slash]), mode: 0o755) }
        if try Sys.makeDirectory(path, 0o700) {
            // Only the directory this call made: chmod of the exact mode.
            let made = try PinnedDirectory.open(path)
            if try made.status().st_uid == ProcessControl.effectiveUser { try Sys.fchmod(made.fd, 0o700, path) }
        }
        return try verify(path)
    }

    /// Opens the file `name` in `directory` (the spool's when nil), never
    /// through a link, and checks what was opened before anything is done
    /// with it: a regular file, with no other name (a hard link to a file
    /// elsewhere), belonging to this user, the spool's owner or, in a
    /// shared spool, its group. With `create`, a new file is made
    /// exclusively and only a file this call made gets the spool's mode and
    /// owner: nothing that was already there is ever chmod-ed or chown-ed.
    func open(_ name: String, _ given: Int32, in directory: PinnedDirectory? = nil) throws(SpoolError) -> Int32 {
        let directory = directory ?? self.directory
        // Never waiting in open: a lease another account's file carries
        // (or a FIFO) makes it fail at once rather than hold a hit.
        let flags = given | OpenFlag.nonBlocking
        var fd: Int32
        var created = false
        if flags & OpenFlag.create != 0 && flags & OpenFlag.exclusive == 0 {
            // Mostly there already (the lock, the counters): opened as it
            // is, and made, exclusively, only when it is missing.
            do throws(SpoolError) {
                fd = try directory.open(name, flags & ~OpenFlag.create)
            } catch where error.errno == Errno.noEntry {
                do throws(SpoolError) {
                    fd = try directory.open(name, flags | OpenFlag.exclusive, fileMode)
                    created = true
                } catch where error.errno == Errno.exists {
                    fd = try directory.open(name, flags & ~OpenFlag.create)  // made by another just now
                }
            }
        } else {
            fd = try directory.open(name, flags, fileMode)
            created = flags & OpenFlag.create != 0
        }
        do throws(SpoolError) {
            let st = try Sys.fstat(fd, directory.pathOf(name))
            try check(st, directory.pathOf(name))
            if created { try adopt(fd, st, directory.pathOf(name)) }
        } catch {
            Sys.close(fd)
            throw error
        }
        return fd
    }

    /// What may be read or written in a spool: see `open`.
    func check(_ st: FileStatus, _ path: @autoclosure () -> String) throws(SpoolError) {
        guard st.st_mode & ModeBits.typeMask == ModeBits.regular else {
            throw SpoolError(unsafe: path(), because: "it is not a regular file; remove it")
        }
        guard st.st_nlink == 1 else {
            throw SpoolError(unsafe: path(), because: "it has another name (a hard link to a file elsewhere?); remove it")
        }
        guard isOurs(st) else {
            throw SpoolError(unsafe: path(), because: "it belongs to uid \(st.st_uid) and group \(st.st_gid), not to this spool's users; remove it")
        }
    }

    /// Made for this spool: in a shared (set-group-ID) spool everything made
    /// in it takes its group, whoever made it, so a file of another group
    /// came from elsewhere (a root file renamed in); in a private one, this
    /// user's or the spool owner's.
    func isOurs(_ st: FileStatus) -> Bool {
        if groupShared { return st.st_gid == gid && st.st_mode & ModeBits.othersWrite == 0 }
        let me = ProcessControl.effectiveUser
        return st.st_uid == me || st.st_uid == uid
    }

    /// The directory `name` in the spool (`rejected/`), made if missing with
    /// the spool's modes (unless `making` is false), and opened and checked
    /// through its descriptor: a real directory (never a link), made for
    /// this spool (`isOurs`), that others may not write.
    func subdirectory(_ name: String, making: Bool = true) throws(SpoolError) -> PinnedDirectory {
        let made = making ? try directory.makeDirectory(name, directoryMode) : false
        let sub: PinnedDirectory
        do throws(SpoolError) {
            sub = try directory.subdirectory(name)
        } catch where error.errno == Errno.loop || error.errno == Errno.notDirectory {
            throw SpoolError(unsafe: directory.pathOf(name), because: "it is not a directory (a symbolic link?); remove it")
        }
        let st = try sub.status()
        guard isOurs(st) else {
            throw SpoolError(unsafe: sub.path, because: "it belongs to uid \(st.st_uid) and group \(st.st_gid), not to this spool's users; remove it")
        }
        if made { try adopt(sub.fd, st, sub.path, mode: directoryMode) }
        if try sub.status().st_mode & ModeBits.othersWrite != 0 {
            throw SpoolError(unsafe: sub.path, because: "others may write to it; chmod o-w it")
        }
        return sub
    }

    /// Gives a file or directory this call made the spool's mode, and
    /// when root made it, the spool directory's owner and group.
    private func adopt(_ fd: Int32, _ st: FileStatus, _ path: String, mode: UInt32? = nil) throws(SpoolError) {
        let me = ProcessControl.effectiveUser
        guard st.st_uid == me else { return }
        let wanted = mode ?? fileMode
        if st.st_mode & 0o7777 != wanted { try Sys.fchmod(fd, wanted, path) }
        if me == 0 && (uid != 0 || st.st_gid != gid) { try Sys.fchown(fd, uid, gid, path) }
    }
}

/// A directory of a checked spool (its own, or `rejected/`): its files are
/// opened with the spool's checks (`SpoolOwnership.open`), read-only.
struct SpoolPlace: Sendable {
    let owner: SpoolOwnership
    let directory: PinnedDirectory

    func openForReading(_ name: String) throws(SpoolError) -> Int32 {
        try owner.open(name, OpenFlag.readOnly, in: directory)
    }

    func pathOf(_ name: String) -> String { directory.pathOf(name) }
}
