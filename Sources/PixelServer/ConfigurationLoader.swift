import PixelCore
import PixelSpool
import PixelSystem

/// Reads the settings the way every hosting setup can pass them: the
/// process environment (`SetEnv`, `FcgidInitialEnv`, `fastcgi_param` through
/// fcgiwrap, systemd `Environment=`) over one settings file of `NAME=value`
/// lines, the first of:
///
/// 1. the file `PIXELGATE_CONFIG` names (`none`: no file at all);
/// 2. `/etc/pixelgate/pixelgate.env` when it exists: the package's file,
///    which the web server's CGI and FastCGI processes, `serve` and the
///    drain all read, so that they share one configuration;
/// 3. where the environment names no spool, the running user's own
///    `~/.config/pixelgate/pixelgate.conf` if it exists.
///
/// Where neither names the spool, the running user's own home holds it:
/// `~/.local/state/pixelgate`. That is how shared hosting is configured:
/// Apache's suEXEC passes a CGI program none of the `.htaccess` `SetEnv`
/// variables, and cron none either, but both run as the account, whose
/// home holds the file. (A deployment that names its spool in the
/// environment never pays for the password-database look-up.)
///
/// A settings file decides where events go, so it is read only when its
/// owner is root or the running user and others may not write it.
public enum ConfigurationLoader {
    /// The settings file read from the user's home when no other is named.
    public static let homeConfigSubpath = ".config/pixelgate/pixelgate.conf"
    /// The system-wide settings file (the Debian package's conffile).
    public static let systemConfigPath = "/etc/pixelgate/pixelgate.env"
    /// `PIXELGATE_CONFIG=none`: read no settings file.
    public static let noConfigFile = "none"

    public static func load() -> (PixelConfiguration, [ConfigurationProblem]) {
        let environment = pixelgateEnvironment()
        var home: HomeDirectory?
        let configPath = settingsFile(environment, home: &home)
        var (config, problems) = loadSettings(environment, configPath: configPath)
        if config.sources["PIXELGATE_SPOOL_DIR"] == nil {
            let home = home ?? HomeDirectory.ofEffectiveUser()
            switch PixelConfiguration.defaultSpoolDirectory(home: home.path, homeIsPrivate: home.isPrivate, user: home.user) {
            case .success(let path): config.spoolDirectory = path
            case .failure(let problem): problems.append(problem)
            }
        }
        return (config, problems)
    }

    /// The settings file pixelgate reads, if any, for `check` to name.
    public static func configFile() -> String? {
        var home: HomeDirectory?
        return settingsFile(pixelgateEnvironment(), home: &home)
    }

    /// The settings file of the order above, if any. `home` is the
    /// look-up made on the way, if one was.
    static func settingsFile(_ environment: [String: String], home: inout HomeDirectory?,
                             systemPath: String = systemConfigPath) -> String? {
        if let path = environment["PIXELGATE_CONFIG"], !path.isEmpty { return path == noConfigFile ? nil : path }
        // Present but unreadable still counts: reading it then says why.
        let systemFileExists: Bool
        do { systemFileExists = try Sys.statIfExists(systemPath) != nil } catch { systemFileExists = true }
        if systemFileExists { return systemPath }
        guard environment["PIXELGATE_SPOOL_DIR"] == nil else { return nil }
        let found = HomeDirectory.ofEffectiveUser()
        home = found
        guard found.isPrivate, let homePath = found.path else { return nil }
        let candidate = homePath + "/" + homeConfigSubpath
        return (try? Sys.statIfExists(candidate)) != nil ? candidate : nil
    }

    static func loadSettings(_ environment: [String: String], configPath: String?) -> (PixelConfiguration, [ConfigurationProblem]) {
        guard let path = configPath else {
            return PixelConfiguration.resolve(environment: environment)
        }
        switch readFile(path, limit: 1 << 20) {
        case .success(let bytes):
            return PixelConfiguration.resolve(environment: environment, fileBytes: bytes, fileName: path)
        case .failure(let message):
            var (config, problems) = PixelConfiguration.resolve(environment: environment)
            problems.append(ConfigurationProblem(setting: "PIXELGATE_CONFIG", message: "cannot read \(path): \(message)", isFatal: true))
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
    static func pixelgateEnvironment() -> [String: String] {
        ProcessControl.environment(prefix: "PIXELGATE_")
    }

    enum ReadResult {
        case success([UInt8])
        case failure(String)
    }

    /// The settings file's text; a link an administrator made is followed.
    /// Refused when someone other than root or the running user owns it or
    /// others may write it: they could send the events anywhere.
    static func readFile(_ path: String, limit: Int) -> ReadResult {
        let me = ProcessControl.effectiveUser
        var refusal: String?
        let bytes: [UInt8]
        do {
            bytes = try Sys.readFile(path, limit: limit, followingLinks: true) { st in
                if st.st_uid != 0 && st.st_uid != me {
                    refusal = "owned by \(Users.name(of: st.st_uid)), not root or the user pixelgate runs as (\(Users.name(of: me)))"
                } else if st.st_mode & ModeBits.othersWrite != 0 {
                    refusal = "writable by every user; chmod o-w it"
                }
                return refusal
            }
        } catch {
            if let refusal { return .failure(refusal) }
            return .failure(error.errno == Errno.fileTooBig ? "larger than \(limit) bytes" : error.errno == Errno.invalid ? "not a regular file" : SystemError.reason(error.errno))
        }
        return .success(bytes)
    }

    /// One CGI variable from the process environment, if set.
    public static func variable(_ name: String) -> String? {
        ProcessControl.variable(name)
    }
}
