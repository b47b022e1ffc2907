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
    public var limits = PixelLimits()
    public var spool = SpoolSettings()
    /// How long forwarding waits for the data plane before spooling instead.
    public var forwardTimeoutMillis = 2000
    /// How long a FastCGI connection of `serve` may take to deliver its
    /// request before it is closed (so that stalled clients hold no thread).
    public var requestTimeoutMillis: Int64 = 5000
    /// Largest batch body the drain sends (the data plane takes up to 4,000 KB).
    public var batchBytes = 512 * 1024
    /// Send bodies to the data plane gzipped (`Content-Encoding: gzip`).
    public var gzip = true
    /// Where the settings came from, for `pixelgate check`.
    public var sources: [String: String] = [:]

    public init() {}

    /// The names this version understands.
    public static let settingNames = [
        "PIXELGATE_SPOOL_DIR", "PIXELGATE_SINK", "PIXELGATE_DATA_PLANE_URL", "PIXELGATE_WRITE_KEYS",
        "PIXELGATE_RESPONSE", "PIXELGATE_TRUSTED_PROXIES", "PIXELGATE_MAX_QUERY_BYTES", "PIXELGATE_MAX_PAIRS",
        "PIXELGATE_MAX_KEY_BYTES", "PIXELGATE_MAX_DEPTH", "PIXELGATE_MAX_ARRAY_INDEX", "PIXELGATE_SEAL_BYTES",
        "PIXELGATE_SEAL_SECONDS", "PIXELGATE_FSYNC", "PIXELGATE_REJECTED_MAX_BYTES", "PIXELGATE_FORWARD_TIMEOUT",
        "PIXELGATE_BATCH_BYTES", "PIXELGATE_GZIP", "PIXELGATE_SIGNING_KEYS", "PIXELGATE_MAX_EVENT_BYTES",
        "PIXELGATE_REQUEST_TIMEOUT",
    ]

    /// Resolves the configuration. `fileText` is the content of the file named
    /// by `PIXELGATE_CONFIG`, read by the caller. Never fails: problems are
    /// returned, and fatal ones make the handler answer 500.
    public static func resolve(environment: [String: String], fileText: String? = nil, fileName: String? = nil)
        -> (PixelConfiguration, [ConfigurationProblem])
    {
        var problems: [ConfigurationProblem] = []
        var merged: [String: (value: String, source: String)] = [:]
        if let fileText {
            let source = fileName ?? "config file"
            for entry in ConfigFile.parse(fileText) {
                switch entry {
                case .setting(let name, let value, _):
                    merged[name] = (value, source)
                case .malformed(let line):
                    problems.append(.init(setting: "\(source):\(line)", message: "not a NAME=value line", isFatal: true))
                }
            }
        }
        for (name, value) in environment where name.hasPrefix("PIXELGATE_") && name != "PIXELGATE_CONFIG" {
            merged[name] = (value, "environment")
        }
        for name in merged.keys.sorted() where !settingNames.contains(name) {
            problems.append(.init(setting: name, message: "unknown setting (ignored)", isFatal: false))
        }

        var config = PixelConfiguration()
        func take(_ name: String, _ apply: (String) -> String?) {
            guard let entry = merged[name] else { return }
            config.sources[name] = entry.source
            if let error = apply(entry.value) {
                problems.append(.init(setting: name, message: error, isFatal: true))
            }
        }
        take("PIXELGATE_SPOOL_DIR") { v in
            guard v.hasPrefix("/") else { return "must be an absolute path, got '\(v)'" }
            config.spoolDirectory = v
            return nil
        }
        take("PIXELGATE_SINK") { v in
            guard let kind = SinkKind(rawValue: v.lowercased()) else { return "must be spool or forward, got '\(v)'" }
            config.sink = kind
            return nil
        }
        take("PIXELGATE_DATA_PLANE_URL") { v in
            if v.isEmpty { return nil }
            guard v.hasPrefix("http://") || v.hasPrefix("https://") else {
                return "must be an http:// or https:// URL, got '\(URLRedaction.redacted(v))'"
            }
            config.dataPlaneURL = v
            return nil
        }
        take("PIXELGATE_WRITE_KEYS") { v in
            config.writeKeys = Set(v.split(separator: ",").map { String($0.trimmingSpaces()) }.filter { !$0.isEmpty })
            return nil
        }
        take("PIXELGATE_SIGNING_KEYS") { v in
            for item in v.split(separator: ",").map({ String($0.trimmingSpaces()) }) where !item.isEmpty {
                guard let colon = item.firstIndex(of: ":"), colon != item.startIndex, item.index(after: colon) != item.endIndex else {
                    return "each entry must be writeKey:secret, got '\(item.prefix(40))'"
                }
                let secret = String(item[item.index(after: colon)...])
                guard secret.utf8.count >= 16 else { return "the secret for '\(item[..<colon])' is shorter than 16 bytes" }
                config.signingKeys[String(item[..<colon])] = secret
            }
            return nil
        }
        take("PIXELGATE_RESPONSE") { v in
            guard let format = ResponseFormat(rawValue: v.lowercased()) else { return "must be text, gif or gif-always, got '\(v)'" }
            config.response = format
            return nil
        }
        take("PIXELGATE_TRUSTED_PROXIES") { v in
            var networks: [IPNetwork] = []
            for item in v.split(separator: ",").map({ String($0.trimmingSpaces()) }) where !item.isEmpty {
                guard let network = IPNetwork(item) else { return "'\(item)' is not an address or CIDR range" }
                networks.append(network)
            }
            config.trustedProxies = networks
            return nil
        }
        func count(_ name: String, min: Int, max: Int, _ set: (Int) -> Void) {
            take(name) { v in
                guard let n = parseSize(v), n >= min, n <= max else { return "must be a whole number from \(min) to \(max), got '\(v)'" }
                set(n)
                return nil
            }
        }
        count("PIXELGATE_MAX_QUERY_BYTES", min: 64, max: 1 << 20) { config.limits.maxQueryBytes = $0 }
        count("PIXELGATE_MAX_PAIRS", min: 1, max: 10_000) { config.limits.maxPairs = $0 }
        count("PIXELGATE_MAX_KEY_BYTES", min: 8, max: 4096) { config.limits.maxKeyBytes = $0 }
        count("PIXELGATE_MAX_DEPTH", min: 1, max: 64) { config.limits.maxDepth = $0 }
        count("PIXELGATE_MAX_ARRAY_INDEX", min: 0, max: 10_000) { config.limits.maxArrayIndex = $0 }
        count("PIXELGATE_MAX_EVENT_BYTES", min: 1024, max: PixelLimits.eventBytesCeiling) { config.limits.maxEventBytes = $0 }
        count("PIXELGATE_SEAL_BYTES", min: 4096, max: 1 << 30) { config.spool.sealBytes = $0 }
        count("PIXELGATE_REJECTED_MAX_BYTES", min: 0, max: 1 << 40) { config.spool.rejectedMaxBytes = $0 }
        take("PIXELGATE_SEAL_SECONDS") { v in
            guard let ms = parseDurationMillis(v, defaultUnit: 1000), ms >= 1000, ms <= 86_400_000 else {
                return "must be a duration from 1s to 24h, got '\(v)'"
            }
            config.spool.sealSeconds = Int(ms / 1000)
            return nil
        }
        take("PIXELGATE_FSYNC") { v in
            switch v.lowercased() {
            case "never": config.spool.fsync = .never
            case "always": config.spool.fsync = .always
            default:
                guard let ms = parseDurationMillis(v, defaultUnit: nil), ms > 0, ms <= 3_600_000 else {
                    return "must be never, always or an interval such as 1s or 250ms, got '\(v)'"
                }
                config.spool.fsync = .interval(millis: ms)
            }
            return nil
        }
        take("PIXELGATE_FORWARD_TIMEOUT") { v in
            guard let ms = parseDurationMillis(v, defaultUnit: 1000), ms >= 50, ms <= 60_000 else {
                return "must be a duration from 50ms to 60s, got '\(v)'"
            }
            config.forwardTimeoutMillis = Int(ms)
            return nil
        }
        count("PIXELGATE_BATCH_BYTES", min: 1024, max: 3_800_000) { config.batchBytes = $0 }
        take("PIXELGATE_REQUEST_TIMEOUT") { v in
            guard let ms = parseDurationMillis(v, defaultUnit: 1000), ms >= 100, ms <= 300_000 else {
                return "must be a duration from 100ms to 300s, got '\(v)'"
            }
            config.requestTimeoutMillis = ms
            return nil
        }
        take("PIXELGATE_GZIP") { v in
            switch v.lowercased() {
            case "on", "true", "yes", "1": config.gzip = true
            case "off", "false", "no", "0": config.gzip = false
            default: return "must be on or off, got '\(v)'"
            }
            return nil
        }
        if config.sink == .forward && config.dataPlaneURL == nil {
            problems.append(.init(setting: "PIXELGATE_SINK", message: "forward needs PIXELGATE_DATA_PLANE_URL", isFatal: true))
        }
        return (config, problems)
    }

    /// The effective settings as `NAME=value` pairs, for `pixelgate check`.
    public var effectiveSettings: [(name: String, value: String)] {
        [
            ("PIXELGATE_SPOOL_DIR", spoolDirectory),
            ("PIXELGATE_SINK", sink.rawValue),
            ("PIXELGATE_DATA_PLANE_URL", dataPlaneURL.map(URLRedaction.redacted) ?? ""),
            ("PIXELGATE_WRITE_KEYS", writeKeys.isEmpty ? "" : "(\(writeKeys.count) keys)"),
            ("PIXELGATE_RESPONSE", response.rawValue),
            ("PIXELGATE_TRUSTED_PROXIES", trustedProxies.map(\.description).joined(separator: ",")),
            ("PIXELGATE_MAX_QUERY_BYTES", "\(limits.maxQueryBytes)"),
            ("PIXELGATE_MAX_PAIRS", "\(limits.maxPairs)"),
            ("PIXELGATE_MAX_KEY_BYTES", "\(limits.maxKeyBytes)"),
            ("PIXELGATE_MAX_DEPTH", "\(limits.maxDepth)"),
            ("PIXELGATE_MAX_ARRAY_INDEX", "\(limits.maxArrayIndex)"),
            ("PIXELGATE_MAX_EVENT_BYTES", "\(limits.maxEventBytes)"),
            ("PIXELGATE_SEAL_BYTES", "\(spool.sealBytes)"),
            ("PIXELGATE_SEAL_SECONDS", "\(spool.sealSeconds)"),
            ("PIXELGATE_FSYNC", spool.fsync.description),
            ("PIXELGATE_REJECTED_MAX_BYTES", "\(spool.rejectedMaxBytes)"),
            ("PIXELGATE_FORWARD_TIMEOUT", "\(forwardTimeoutMillis)ms"),
            ("PIXELGATE_REQUEST_TIMEOUT", "\(requestTimeoutMillis)ms"),
            ("PIXELGATE_BATCH_BYTES", "\(batchBytes)"),
            ("PIXELGATE_GZIP", gzip ? "on" : "off"),
            ("PIXELGATE_SIGNING_KEYS", signingKeys.isEmpty ? "" : "(\(signingKeys.count) keys, secrets not shown)"),
        ]
    }
}

/// `4096`, `64k`, `8M`, `1G` (binary multiples) → bytes.
func parseSize(_ text: String) -> Int? {
    var digits = Substring(text.trimmingCharacters())
    var multiplier = 1
    switch digits.last?.lowercased() {
    case "k": multiplier = 1 << 10
    case "m": multiplier = 1 << 20
    case "g": multiplier = 1 << 30
    default: break
    }
    if multiplier != 1 { digits = digits.dropLast() }
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits),
          n <= Int.max / multiplier else { return nil }
    return n * multiplier
}

/// `250ms`, `2s`, `5m`, `1h` → milliseconds; a bare number uses `defaultUnit`
/// (milliseconds per unit), or is refused when that is nil.
func parseDurationMillis(_ text: String, defaultUnit: Int64?) -> Int64? {
    let t = text.trimmingCharacters().lowercased()
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
    var number = Substring(t)
    var unit = defaultUnit
    for (suffix, ms) in units where t.hasSuffix(suffix) {
        number = t.dropLast(suffix.count)
        unit = ms
        break
    }
    guard let unit, !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(number),
          n <= Int64.max / unit else { return nil }
    return n * unit
}

extension String {
    func trimmingCharacters() -> String { String(Substring(self).trimmingSpaces()) }
}
