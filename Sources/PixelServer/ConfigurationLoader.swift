#if canImport(Glibc)
import Glibc
#endif
import CFastCGI
import PixelCore

/// Reads the settings the way every hosting setup can pass them: the
/// process environment (`SetEnv`, `FcgidInitialEnv`, `fastcgi_param` through
/// fcgiwrap, systemd `Environment=`) and the file named by `PIXELGATE_CONFIG`.
public enum ConfigurationLoader {
    public static func load() -> (PixelConfiguration, [ConfigurationProblem]) {
        var (config, problems) = loadSettings()
        if config.sources["PIXELGATE_SPOOL_DIR"] == nil {
            switch defaultSpoolDirectory() {
            case .success(let path):
                config.spoolDirectory = path
                if let left = eventsLeftInFormerDefault() { problems.append(left) }
            case .failure(let problem): problems.append(problem)
            }
        }
        return (config, problems)
    }

    static func loadSettings() -> (PixelConfiguration, [ConfigurationProblem]) {
        let environment = pixelgateEnvironment()
        guard let path = environment["PIXELGATE_CONFIG"], !path.isEmpty else {
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

    /// Earlier versions spooled to `/var/tmp/pixelgate` by default: events
    /// this user left there are named, so that an upgrade strands none.
    static func eventsLeftInFormerDefault() -> ConfigurationProblem? {
        let former = "/var/tmp/pixelgate"
        var st = stat()
        guard lstat(former, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid(),
              let dir = opendir(former) else { return nil }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".ndjson") {
                return ConfigurationProblem(setting: "PIXELGATE_SPOOL_DIR", message: "events remain in \(former), the default spool of "
                    + "earlier versions: ship them with PIXELGATE_SPOOL_DIR=\(former) pixelgate drain --once", isFatal: false)
            }
        }
        return nil
    }

    /// The running user's default spool, from the passwd entry of the
    /// effective user (not `$HOME`: a web server gives CGI programs none,
    /// and cron the same one the passwd entry has).
    static func defaultSpoolDirectory() -> Result<String, ConfigurationProblem> {
        let me = geteuid()
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwuid_r(me, &entry, &buffer, buffer.count, &found)
        guard status == 0, let found, let dir = found.pointee.pw_dir else {
            return PixelConfiguration.defaultSpoolDirectory(home: nil, homeIsPrivate: false, user: "uid \(me)")
        }
        let home = String(cString: dir)
        let user = found.pointee.pw_name.map { String(cString: $0) } ?? "uid \(me)"
        var st = stat()
        let isPrivate = stat(home, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
            && st.st_uid == me && st.st_mode & S_IWOTH == 0
        return PixelConfiguration.defaultSpoolDirectory(home: home, homeIsPrivate: isPrivate, user: user)
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
