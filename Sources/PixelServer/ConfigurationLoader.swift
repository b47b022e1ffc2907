#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelCore
import PixelSpool

/// Reads the settings the way every hosting setup can pass them: the
/// process environment (`SetEnv`, `FcgidInitialEnv`, `fastcgi_param` through
/// fcgiwrap, systemd `Environment=`) and the file named by `PIXELGATE_CONFIG`.
///
/// Where neither names the spool, the running user's own home answers
/// both: `~/.config/pixelgate/pixelgate.conf` if it exists, and the spool
/// `~/.local/state/pixelgate`. That is how shared hosting is configured:
/// Apache's suEXEC passes a CGI program none of the `.htaccess` `SetEnv`
/// variables, and cron none either, but both run as the account, whose
/// home holds the file. (A deployment that names its spool in the
/// environment never pays for the password-database look-up.)
public enum ConfigurationLoader {
    /// The settings file read from the user's home when no other is named.
    public static let homeConfigSubpath = ".config/pixelgate/pixelgate.conf"

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

    /// `PIXELGATE_CONFIG`, or else, when the environment names no spool,
    /// the home's settings file if it exists. `home` is the look-up made
    /// on the way, if one was.
    static func settingsFile(_ environment: [String: String], home: inout HomeDirectory?) -> String? {
        if let path = environment["PIXELGATE_CONFIG"], !path.isEmpty { return path }
        guard environment["PIXELGATE_SPOOL_DIR"] == nil else { return nil }
        let found = HomeDirectory.ofEffectiveUser()
        home = found
        guard found.isPrivate, let homePath = found.path else { return nil }
        let candidate = homePath + "/" + homeConfigSubpath
        var st = stat()
        return stat(candidate, &st) == 0 ? candidate : nil
    }

    static func loadSettings(_ environment: [String: String], configPath: String?) -> (PixelConfiguration, [ConfigurationProblem]) {
        guard let path = configPath else {
            return PixelConfiguration.resolve(environment: environment)
        }
        switch readFile(path, limit: 1 << 20) {
        case .success(let text):
            return PixelConfiguration.resolve(environment: environment, fileText: text, fileName: path)
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
            let me = geteuid()
            var entry = passwd()
            var found: UnsafeMutablePointer<passwd>?
            var size = 4096
            while true {
                var buffer = [CChar](repeating: 0, count: size)
                let status = getpwuid_r(me, &entry, &buffer, buffer.count, &found)
                if status == ERANGE && size < 1 << 20 {
                    size *= 4
                    continue
                }
                guard status == 0, let found, let dir = found.pointee.pw_dir else {
                    return HomeDirectory(path: nil, user: "uid \(me)", isPrivate: false)
                }
                let home = String(cString: dir)
                let user = found.pointee.pw_name.map { String(cString: $0) } ?? "uid \(me)"
                var st = stat()
                let isPrivate = stat(home, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR && st.st_uid == me && st.st_mode & S_IWOTH == 0
                return HomeDirectory(path: home, user: user, isPrivate: isPrivate)
            }
        }
    }

    /// Earlier versions spooled to `/var/tmp/pixelgate` by default: events
    /// left there (by any user: root's `check` names the web server's) are
    /// named, so that an upgrade strands none. For `check`, `drain` and
    /// `stats`; a hit does not look.
    public static func eventsLeftInFormerDefault(spoolDirectory: String) -> String? {
        let former = "/var/tmp/pixelgate"
        guard SpoolLayout(directory: spoolDirectory).directory != former else { return nil }
        var st = stat()
        guard lstat(former, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return nil }
        let owner = getpwuid(st.st_uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid \(st.st_uid)"
        for dir in [former, former + "/rejected"] {
            guard let handle = opendir(dir) else { continue }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
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
        var result: [String: String] = [:]
        guard var cursor = pixelgate_environment() else { return result }
        while let entry = cursor.pointee {
            if strncmp(entry, "PIXELGATE_", 10) == 0 {
                let text = String(cString: entry)
                if let eq = text.firstIndex(of: "=") {
                    result[String(text[..<eq])] = String(text[text.index(after: eq)...])
                }
            }
            cursor += 1
        }
        return result
    }

    enum ReadResult {
        case success(String)
        case failure(String)
    }

    static func readFile(_ path: String, limit: Int) -> ReadResult {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while bytes.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        guard bytes.count <= limit else { return .failure("larger than \(limit) bytes") }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .failure("not UTF-8 text") }
        return .success(text)
    }

    /// One CGI variable from the process environment, if set.
    public static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
