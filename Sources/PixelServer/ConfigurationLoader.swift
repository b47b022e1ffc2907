import PixelCore
import PixelSpool
import PixelSystem

/// Reads the settings the way every hosting setup can pass them: the
/// process environment (`SetEnv`, `FcgidInitialEnv`, `fastcgi_param` through
/// fcgiwrap, systemd `Environment=`) over one settings file of `NAME=value`
/// lines, chosen so:
///
/// 1. the file `PIXELGATE_CONFIG` names (`none`: no file at all);
/// 2. `/etc/pixelgate/pixelgate.env` when it names the spool, or the
///    environment does: the machine's file (the Debian package's), which
///    the web server's CGI and FastCGI processes, `serve` and the drain all
///    read, so that they share one configuration;
/// 3. otherwise, the running user's own `~/.config/pixelgate/pixelgate.conf`
///    if it exists: a shared-hosting account's settings, which a
///    system-wide file that does not name a spool (or that the account may
///    not read) never silently replaces;
/// 4. otherwise `/etc/pixelgate/pixelgate.env` if it exists at all (its
///    problems, such as being unreadable, are then reported).
///
/// Where neither names the spool, the running user's own home holds it:
/// `~/.local/state/pixelgate`. That is how shared hosting is configured:
/// Apache's suEXEC passes a CGI program none of the `.htaccess` `SetEnv`
/// variables, and cron none either, but both run as the account, whose
/// home holds the file. (A deployment that names its spool in the
/// environment or the system file never pays for the password-database
/// look-up.)
///
/// A settings file decides where events go and holds the signing secrets,
/// so it is read only when nobody but its owner (root or the running user)
/// can change it: not the file, not a directory on its way, not a link to
/// it (`readFile`, `untrustedDirectory`). A group's write counts as
/// someone else's unless that group has no member but the owner. A file
/// with signing secrets that every user may read is a problem `check`
/// fails with and every hit warns of.
public enum ConfigurationLoader {
    /// The settings file read from the user's home when no other is named.
    public static let homeConfigSubpath = ".config/pixelgate/pixelgate.conf"
    /// The system-wide settings file (the Debian package's conffile).
    public static let systemConfigPath = "/etc/pixelgate/pixelgate.env"
    /// `PIXELGATE_CONFIG=none`: read no settings file.
    public static let noConfigFile = "none"

    public static func load() -> (PixelConfiguration, [ConfigurationProblem]) {
        let (configuration, problems, _) = loadNamingFile()
        return (configuration, problems)
    }

    /// `load`, with the settings file read, if any, for `check` to name.
    public static func loadNamingFile() -> (PixelConfiguration, [ConfigurationProblem], file: String?) {
        let environment = pixelgateEnvironment()
        var home: HomeDirectory?
        let file = settingsFile(environment, home: &home)
        var (config, problems) = resolve(environment, file)
        if config.sources["PIXELGATE_SPOOL_DIR"] == nil {
            let home = home ?? HomeDirectory.ofEffectiveUser()
            switch PixelConfiguration.defaultSpoolDirectory(home: home.path, homeIsPrivate: home.isPrivate, user: home.user) {
            case .success(let path): config.spoolDirectory = path
            case .failure(let problem): problems.append(problem)
            }
        }
        if !config.addressRangesFile.isEmpty { readAddressRanges(&config, &problems) }
        return (config, problems, file?.path)
    }

    /// The largest address-ranges file read: the published lists pixelgate
    /// imports make about 15 KB, and a CGI hit reads the file.
    public static let addressRangesLimit = 1 << 20

    /// The first range of `lists` wider than its list's kind holds, named.
    static func widestRange(_ lists: [AddressList]) -> String? {
        for list in lists {
            guard let kind = PublishedRanges.Kind(listName: list.name) else { continue }
            for i in list.first.indices {
                if let why = kind.tooWide(first: list.first[i], last: list.last[i]) { return "list '\(list.name)' has a range \(why)" }
            }
        }
        return nil
    }

    /// `PIXELGATE_ADDRESS_RANGES`' lists, read as the settings file is (its
    /// ranges decide which hits are counted as people's, so only root or
    /// the running user may change it). Anything wrong is fatal: a typo in
    /// a list's name would otherwise leave the compiled-in list quietly in
    /// use.
    static func readAddressRanges(_ config: inout PixelConfiguration, _ problems: inout [ConfigurationProblem]) {
        let path = config.addressRangesFile
        func refuse(_ message: String) {
            problems.append(ConfigurationProblem(setting: "PIXELGATE_ADDRESS_RANGES", message: message, isFatal: true))
        }
        switch readFile(path, limit: addressRangesLimit) {
        case .failure(let message):
            refuse("cannot read \(path): \(message)")
        case .success(let bytes, _):
            do throws(AddressRangesProblem) {
                let lists = try AddressRanges.parse(String(decoding: bytes, as: UTF8.self))
                let unused = AddressLists.unusedNames(lists)
                if lists.isEmpty {
                    refuse("\(path) has no 'list' line: no list to replace")
                } else if let empty = lists.first(where: { $0.first.isEmpty }) {
                    refuse("\(path) has no range in list '\(empty.name)', which would turn its rule off")
                } else if let wide = widestRange(lists) {
                    refuse("\(path), \(wide): its rule would class people's browsers as machines")
                } else if !unused.isEmpty {
                    refuse("\(path) has lists no rule uses (" + unused.joined(separator: ", ") + "); the rules use "
                        + AddressLists.standard.map(\.name).joined(separator: ", "))
                } else {
                    config.operatorLists = OperatorAddressLists(lists)
                }
            } catch {
                refuse("\(path), \(error)")
            }
        }
    }

    /// A settings file chosen, and what reading it gave.
    struct ChosenFile {
        var path: String
        var read: ReadResult
        /// Its lines, when choosing it needed them.
        var entries: [ConfigFile.Entry]?
        /// The machine's file, taken only for want of another: when this
        /// user may not read it, it is not meant for them (a warning, and
        /// the defaults), as for any program.
        var isFallback = false
    }

    /// The settings file of the order above, if any, read. `home` is the
    /// look-up made on the way, if one was (one given is used as is).
    static func settingsFile(_ environment: SettingValues, home: inout HomeDirectory?,
                             systemPath: String = systemConfigPath) -> ChosenFile? {
        if let path = environment["PIXELGATE_CONFIG"], !path.isEmpty {
            return path == noConfigFile ? nil : ChosenFile(path: path, read: readFile(path, limit: fileLimit))
        }
        // Present, even as a link that leads nowhere or a file this user
        // may not read, it counts: reading it then says why.
        var system: ChosenFile?
        let systemExists: Bool
        do { systemExists = try Sys.lstatIfExists(systemPath) != nil } catch { systemExists = true }
        if systemExists {
            let read = readFile(systemPath, limit: fileLimit)
            if environment["PIXELGATE_SPOOL_DIR"] != nil { return ChosenFile(path: systemPath, read: read) }
            var entries: [ConfigFile.Entry]?
            if case .success(let bytes, _) = read {
                let parsed = ConfigFile.parse(bytes: bytes)
                if namesSpool(parsed) { return ChosenFile(path: systemPath, read: read, entries: parsed) }
                entries = parsed
            }
            system = ChosenFile(path: systemPath, read: read, entries: entries, isFallback: true)
        }
        if environment["PIXELGATE_SPOOL_DIR"] == nil {
            let found = home ?? HomeDirectory.ofEffectiveUser()
            home = found
            if found.isPrivate, let homePath = found.path {
                let candidate = homePath + "/" + homeConfigSubpath
                if (try? Sys.lstatIfExists(candidate)) != nil {
                    return ChosenFile(path: candidate, read: readFile(candidate, limit: fileLimit))
                }
            }
        }
        return system
    }

    static let fileLimit = 1 << 20

    /// Whether a settings file sets `PIXELGATE_SPOOL_DIR` (to anything).
    static func namesSpool(_ entries: [ConfigFile.Entry]) -> Bool {
        entries.contains {
            if case .setting(let name, _, _) = $0 { return name == "PIXELGATE_SPOOL_DIR" }
            return false
        }
    }

    static func resolve(_ environment: SettingValues, _ file: ChosenFile?) -> (PixelConfiguration, [ConfigurationProblem]) {
        guard let file else {
            return PixelConfiguration.resolve(environment: environment)
        }
        switch file.read {
        case .success(let bytes, let mode):
            let entries = file.entries ?? ConfigFile.parse(bytes: bytes)
            var (config, problems) = PixelConfiguration.resolve(environment: environment, fileEntries: entries, fileName: file.path)
            let holdsSecrets = entries.contains {
                if case .setting("PIXELGATE_SIGNING_KEYS", let value, _) = $0 { return !value.isEmpty }
                return false
            }
            if holdsSecrets && mode & 0o004 != 0 {
                problems.append(ConfigurationProblem(
                    setting: "PIXELGATE_SIGNING_KEYS",
                    message: "\(file.path) holds signing secrets and every user may read it (mode 0\(String(mode & 0o7777, radix: 8))): "
                        + "anyone on the host can sign links with them; chmod o-r \(file.path) (0640 root:<web server group>, 0600 your own)",
                    isFatal: false, failsCheck: true))
            }
            return (config, problems)
        case .failure(let message):
            var (config, problems) = PixelConfiguration.resolve(environment: environment)
            let notForThisUser = file.isFallback && message == SystemError.reason(Errno.accessDenied)
            problems.append(ConfigurationProblem(setting: "PIXELGATE_CONFIG",
                                                 message: "cannot read \(file.path): \(message)" + (notForThisUser ? "; this user's settings are the defaults" : ""),
                                                 isFatal: !notForThisUser))
            return (config, problems)
        }
    }

    /// The effective user's home directory, from the password database (not
    /// `$HOME`: a web server gives CGI programs none, and cron the one the
    /// database has).
    struct HomeDirectory {
        var path: String?
        var user: String
        /// A directory the user owns that others may not write: only then
        /// is it trusted with the settings and the spool.
        var isPrivate: Bool

        static func ofEffectiveUser() -> HomeDirectory {
            let me = ProcessControl.effectiveUser
            guard let entry = Users.entry(of: me), let home = entry.home else {
                return HomeDirectory(path: nil, user: "uid \(me)", isPrivate: false)
            }
            // A home that cannot be looked at is not private either.
            let st = try? Sys.statIfExists(home)
            let isPrivate = st.map { $0.st_mode & ModeBits.typeMask == ModeBits.directory && $0.st_uid == me && $0.st_mode & ModeBits.othersWrite == 0 } ?? false
            return HomeDirectory(path: home, user: entry.name, isPrivate: isPrivate)
        }
    }

    /// Earlier versions spooled to `/var/tmp/pixelgate` by default: events
    /// left there (by any user: root's `check` names the web server's) are
    /// named, so that an upgrade strands none. For `check`, `drain` and
    /// `stats`; a hit does not look.
    public static func eventsLeftInFormerDefault(spoolDirectory: String) -> String? {
        let former = "/var/tmp/pixelgate"
        guard SpoolLayout(directory: spoolDirectory).directory != former else { return nil }
        guard let st = try? Sys.lstatIfExists(former), st.st_mode & ModeBits.typeMask == ModeBits.directory else { return nil }
        let owner = Users.name(of: st.st_uid)
        for dir in [former, former + "/rejected"] {
            guard let names = try? Sys.listDirectory(dir) else { continue }
            for name in names {
                if name.hasSuffix(".ndjson") {
                    return "events remain in \(former) (\(owner)'s), the default spool of earlier versions: ship them as that user "
                        + "with PIXELGATE_SPOOL_DIR=\(former) pixelgate drain --once"
                }
            }
        }
        return nil
    }

    /// The `PIXELGATE_*` variables of the process environment.
    static func pixelgateEnvironment() -> SettingValues {
        let (names, values) = ProcessControl.environment(prefix: "PIXELGATE_")
        return SettingValues(names: names, values: values)
    }

    enum ReadResult {
        /// The file's bytes and its mode.
        case success([UInt8], mode: UInt32)
        case failure(String)
    }

    /// The settings file's bytes; a link is followed only when it is root's
    /// or the running user's. Refused when someone other than root or the
    /// running user owns it, others may write it (or a group with another
    /// member), or someone else may rename it or a directory on its way:
    /// they could send the events anywhere. A relative name is taken from
    /// the working directory, and its directories are checked as well.
    static func readFile(_ given: String, limit: Int) -> ReadResult {
        let me = ProcessControl.effectiveUser
        var path = given
        if !path.hasPrefix("/") {
            guard let cwd = ProcessControl.currentDirectory() else { return .failure("a relative name, and the working directory is gone; name it from /") }
            path = (cwd == "/" ? "" : cwd) + "/" + path
        }
        if let st = try? Sys.lstatIfExists(path), st.st_mode & ModeBits.typeMask == ModeBits.symbolicLink, st.st_uid != 0 && st.st_uid != me {
            return .failure("a link owned by \(Users.name(of: st.st_uid)), who could point it at other settings; name the real file")
        }
        var refusal: String?
        let bytes: [UInt8]
        var mode: UInt32 = 0
        do {
            bytes = try Sys.readFile(path, limit: limit, followingLinks: true) { st in
                mode = st.st_mode
                if st.st_uid != 0 && st.st_uid != me {
                    refusal = "owned by \(Users.name(of: st.st_uid)), not root or the user pixelgate runs as (\(Users.name(of: me)))"
                } else if st.st_mode & ModeBits.othersWrite != 0 {
                    refusal = "writable by every user; chmod o-w it"
                } else if st.st_mode & ModeBits.groupWrite != 0 && !Groups.hasNoMemberBut(st.st_uid, gid: st.st_gid) {
                    refusal = "writable by group \(Groups.name(of: st.st_gid)), whose other members could change it; chmod g-w it"
                }
                return refusal
            }
        } catch {
            if let refusal { return .failure(refusal) }
            return .failure(error.errno == Errno.fileTooBig ? "larger than \(limit) bytes" : error.errno == Errno.invalid ? "not a regular file" : SystemError.reason(error.errno))
        }
        if let directory = untrustedDirectory(on: path) { return .failure(directory) }
        return .success(bytes, mode: mode)
    }

    /// Why someone other than root or the running user could swap the
    /// file at `path` for another (a directory on its way, as written or as
    /// its links resolve, that they own or may write), or nil. A directory
    /// others may write is fine when it is sticky (`/tmp`), and one its
    /// group may write when that group has no member but its owner.
    static func untrustedDirectory(on path: String) -> String? {
        let me = ProcessControl.effectiveUser
        func parent(_ p: String) -> String? {
            guard p != "/", let slash = p.lastIndex(of: "/") else { return nil }
            return slash == p.startIndex ? "/" : String(p[..<slash])
        }
        var directories: [String] = []
        var next = parent(path)
        while let dir = next { directories.append(dir); next = parent(dir) }
        var resolvedAdded = false
        var i = 0
        while i < directories.count {
            let dir = directories[i]
            i += 1
            guard let st = try? Sys.lstatIfExists(dir) else { continue }
            if st.st_uid != 0 && st.st_uid != me {
                return "\(dir) on its way belongs to \(Users.name(of: st.st_uid)), who could replace it"
            }
            if st.st_mode & ModeBits.typeMask == ModeBits.symbolicLink {
                if !resolvedAdded, let real = Sys.realpath(path) {
                    var up = parent(real)
                    while let d = up { directories.append(d); up = parent(d) }
                    resolvedAdded = true
                }
                continue
            }
            let sticky = st.st_mode & ModeBits.sticky != 0
            if st.st_mode & ModeBits.othersWrite != 0 && !sticky {
                return "every user may write to \(dir) on its way and could replace it; chmod o-w (or +t) \(dir)"
            }
            if st.st_mode & ModeBits.groupWrite != 0 && !sticky && !Groups.hasNoMemberBut(st.st_uid, gid: st.st_gid) {
                return "group \(Groups.name(of: st.st_gid)) may write to \(dir) on its way, and its other members could replace it; chmod g-w \(dir)"
            }
        }
        // The file itself a link: the directories it leads to count too.
        if !resolvedAdded, let st = try? Sys.lstatIfExists(path), st.st_mode & ModeBits.typeMask == ModeBits.symbolicLink,
           let real = Sys.realpath(path), real != path {
            return untrustedDirectory(on: real)
        }
        return nil
    }

    /// One CGI variable from the process environment, if set.
    public static func variable(_ name: String) -> String? {
        ProcessControl.variable(name)
    }
}
