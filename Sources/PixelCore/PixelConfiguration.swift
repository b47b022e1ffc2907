/// Every setting pixelgate reads, resolved from the environment and an
/// optional `NAME=value` file (the environment wins).
public struct PixelConfiguration: Sendable, Equatable {
    /// Where the spool is when `PIXELGATE_SPOOL_DIR` is not set: under the
    /// running user's own home directory (the XDG state directory), a place
    /// no other local user can create first (SPEC §7a). A shared `/var/tmp`
    /// name could be made, and filled with links, by anyone.
    public static let defaultSpoolSubpath = ".local/state/pixelgate"

    /// The default spool of a user whose home directory is `home`, or the
    /// reason there is none: the home must be a directory the user owns
    /// (root's may be root's) that others may not write. `home` is nil when
    /// the user has no passwd entry.
    public static func defaultSpoolDirectory(home: String?, homeIsPrivate: Bool, user: String) -> Result<String, ConfigurationProblem> {
        guard let home, home.hasPrefix("/"), homeIsPrivate else {
            let why = home.map { "\(user)'s home directory \($0) is not theirs alone" } ?? "\(user) has no home directory"
            return .failure(ConfigurationProblem(
                setting: "PIXELGATE_SPOOL_DIR",
                message: "not set, and \(why) for the default ~/\(defaultSpoolSubpath); set it to a directory of its own, "
                    + "e.g. install -d -m 2770 -o root -g <web server group> /var/spool/pixelgate",
                isFatal: true))
        }
        return .success((home == "/" ? "" : home) + "/" + defaultSpoolSubpath)
    }

    /// Empty until set or given its default (`ConfigurationLoader`); a spool
    /// refuses an empty or relative path.
    public var spoolDirectory = ""
    public var sink: SinkKind = .spool
    public var dataPlaneURL: String?
    /// Empty accepts any write key.
    public var writeKeys: Set<String> = []
    /// Write key → secret, for signed pixel URLs. A key listed here only
    /// accepts hits carrying a good `sig`.
    public var signingKeys: [String: String] = [:]
    public var response: ResponseFormat = .text
    public var trustedProxies: [IPNetwork] = []
    /// What to do with hits of each class (`TrafficRules`).
    public var hitClasses = HitClassPolicy.default
    /// What to do with hits that send `DNT: 1` or `Sec-GPC: 1`.
    public var consent = ConsentAction.record
    /// Store client addresses shortened (`AddressAnonymizer`).
    public var anonymizeIP = false
    /// `PIXELGATE_CLASS_HEADER`: answers say how the hit was classed.
    public var classHeader = false
    /// `PIXELGATE_ADDRESS_RANGES`: a file of address lists that replace
    /// the compiled-in lists of the same names; empty for none.
    public var addressRangesFile = ""
    /// That file's lists, read by the configuration loader (nil: the
    /// compiled-in lists alone).
    public var operatorLists: OperatorAddressLists?
    /// `PIXELGATE_DERIVE_ANONYMOUS_ID`: a hit without `anonymousId` gets a
    /// derived one (`daily`), or is refused (`off`, SPEC's default).
    public var deriveAnonymousId: DerivedAnonymousId.Mode = .off
    /// `PIXELGATE_EARLY_CLICK`: a click within this long of its link's
    /// signing is a scanner's (`click-before-read`); 0 turns it off.
    public var earlyClickMillis = 5000
    public static let earlyClickMillisBounds: ClosedRange<Int> = 0...3_600_000
    /// Parameter names removed before storing.
    public var secretNames = SecretNames.default
    public var limits = PixelLimits()
    public var spool = SpoolSettings()
    /// How long forwarding waits for the data plane before spooling instead.
    public var forwardTimeoutMillis = 2000
    /// `PIXELGATE_FORWARD_TIMEOUT` may give 50 ms to 60 s. Less is hardly
    /// time to open a connection to the data plane, so nearly every event
    /// would be spooled instead; more keeps a hit (and its web server
    /// worker) waiting longer than web servers and browsers wait for a pixel.
    public static let forwardTimeoutMillisBounds: ClosedRange<Int> = 50...60_000
    /// How long a FastCGI connection of `serve` may take to deliver its
    /// request before it is closed (so that stalled clients hold no thread).
    public var requestTimeoutMillis: Int64 = 5000
    /// `PIXELGATE_REQUEST_TIMEOUT` may give 100 ms to 300 s: less would cut
    /// off clients on slow networks mid-request, more would let idle or
    /// stalled connections hold `serve`'s threads for minutes.
    public static let requestTimeoutMillisBounds: ClosedRange<Int64> = 100...300_000
    /// Largest batch body the drain sends (the data plane takes up to 4,000 KB).
    public var batchBytes = 512 * 1024
    /// `PIXELGATE_BATCH_BYTES` may give 1 KiB to 3,800,000 bytes: a batch
    /// under 1 KiB holds hardly one event, and the ceiling leaves the batch's
    /// wrapper room under the data plane's 4,000 KB request limit.
    public static let batchBytesBounds: ClosedRange<Int> = 1024...3_800_000
    /// Send bodies to the data plane gzipped (`Content-Encoding: gzip`).
    public var gzip = true
    /// The least that is logged.
    public var logLevel: LogLevel = .info
    /// Which refused-hit lines are logged.
    public var refusedLogging: RefusedLogging = .all
    /// Where the settings came from, for `pixelgate check`: "environment"
    /// or the settings file's path, by name.
    public var sources = SettingValues()

    public init() {}

    /// The names this version understands; any other `PIXELGATE_*` name
    /// is warned about (a typo would otherwise leave a default in force).
    public static let settingNames = SettingsTable.settings.map { $0.name }

    /// Resolves the configuration. `fileText` is the content of the file named
    /// by `PIXELGATE_CONFIG`, read by the caller. Never fails: problems are
    /// returned, and fatal ones make the handler answer 500.
    public static func resolve(environment: SettingValues, fileText: String? = nil, fileName: String? = nil)
        -> (PixelConfiguration, [ConfigurationProblem])
    {
        resolve(environment: environment, fileBytes: fileText.map { Array($0.utf8) }, fileName: fileName)
    }

    /// The same, from the file's bytes as read (`ConfigFile.parse(bytes:)`).
    public static func resolve(environment: SettingValues, fileBytes: [UInt8]?, fileName: String? = nil)
        -> (PixelConfiguration, [ConfigurationProblem])
    {
        resolve(environment: environment, fileEntries: fileBytes.map { ConfigFile.parse(bytes: $0) }, fileName: fileName)
    }

    /// The same, from the file's lines already parsed.
    public static func resolve(environment: SettingValues, fileEntries: [ConfigFile.Entry]?, fileName: String? = nil)
        -> (PixelConfiguration, [ConfigurationProblem])
    {
        var problems: [ConfigurationProblem] = []
        // Name → text and name → where from, in the order first set.
        var merged = SettingValues(), mergedSources = SettingValues()
        if let fileEntries {
            let source = fileName ?? "config file"
            for entry in fileEntries {
                switch entry {
                case .setting(let name, let value, _):
                    merged[name] = value
                    mergedSources[name] = source
                case .malformed(let line):
                    problems.append(.init(setting: "\(source):\(line)", message: "not a NAME=value line of UTF-8 text", isFatal: true))
                }
            }
        }
        for i in environment.names.indices {
            let name = environment.names[i]
            guard name.hasPrefix("PIXELGATE_") && name != "PIXELGATE_CONFIG" else { continue }
            merged[name] = environment.values[i]
            mergedSources[name] = "environment"
        }
        // A name pixelgate does not know is a mistake: a typo in
        // PIXELGATE_WRITE_KEYS would silently accept every key. Hits go on
        // (the site must not stop), but `check` fails on it.
        // Sorted only when there are any: sorting every name cost each CGI
        // hit 27,000 instructions.
        var unknown: [String] = []
        for name in merged.names where !settingNames.contains(name) { unknown.append(name) }
        if unknown.count > 1 { unknown.sort() }
        for name in unknown {
            var setting = name
            if mergedSources[name] != "environment", let line = fileEntries?.last(where: { $0.name == name })?.line {
                setting += " (\(fileName ?? "config file") line \(line))"
            }
            var message = "unknown setting (ignored)"
            if let meant = Spelling.closest(to: name, among: settingNames) { message += "; did you mean \(meant)?" }
            problems.append(.init(setting: setting, message: message, isFatal: false, failsCheck: true))
        }

        var config = PixelConfiguration()
        for setting in SettingsTable.settings {
            guard let value = merged[setting.name] else { continue }
            config.sources[setting.name] = mergedSources[setting.name]
            if let error = setting.apply(value, to: &config) {
                problems.append(.init(setting: setting.name, message: error, isFatal: true))
            }
        }
        // The one rule between settings; each setting's own is in the table.
        if config.sink == .forward && config.dataPlaneURL == nil {
            problems.append(.init(setting: "PIXELGATE_SINK", message: "forward needs PIXELGATE_DATA_PLANE_URL", isFatal: true))
        }
        if let url = config.dataPlaneURL, endsInBatchPath(url) {
            problems.append(.init(setting: "PIXELGATE_DATA_PLANE_URL",
                                  message: "ends in /v1/batch, which pixelgate adds itself: events would go to …/v1/batch/v1/batch; give the data plane's address alone",
                                  isFatal: false))
        }
        return (config, problems)
    }

    /// Whether `url`'s path ends in `/v1/batch` (before any query, with or
    /// without a trailing slash, in any case).
    static func endsInBatchPath(_ url: String) -> Bool {
        var path = url.prefix { $0 != "?" && $0 != "#" }.lowercased()
        while path.hasSuffix("/") { path.removeLast() }
        return path.hasSuffix("/v1/batch")
    }

    /// The effective settings as `NAME=value` pairs, for `pixelgate check`,
    /// in the table's order; secrets are not shown.
    public var effectiveSettings: [(name: String, value: String)] {
        SettingsTable.settings.map { (name: $0.name, value: $0.effectiveValue(in: self)) }
    }
}
