/// Every setting pixelgate reads, in the order `pixelgate check` shows them
/// and docs/configuration.md lists them: where events go, who may send them, how hits are
/// answered, the query limits, the spool, then delivery.
///
/// The one list of settings. `PixelConfiguration.resolve` reads values
/// through it, `settingNames` (the unknown-name warning) and
/// `effectiveSettings` (`pixelgate check`) come from it, and `markdownTable`
/// is docs/configuration.md's table, which a test keeps equal.
/// Bounds of numeric settings are the documented `…Bounds` beside the
/// fields they bound (`PixelLimits`, `SpoolSettings`, `PixelConfiguration`).
public enum SettingsTable {
    public static let settings: [Setting] = [
        Setting(
            name: "PIXELGATE_SPOOL_DIR",
            meaning: "the spool directory (created if missing)",
            defaultText: "`~/\(PixelConfiguration.defaultSpoolSubpath)` of the user pixelgate runs as",
            parser: { v, config in
                guard v.hasPrefix("/") else { return "must be an absolute path, got '\(v)'" }
                config.spoolDirectory = v
                return nil
            },
            printer: { $0.spoolDirectory }),
        keyword(
            "PIXELGATE_SINK", meaning: "`spool`, or `forward` to POST each event to the data plane at once", defaultText: "`spool`",
            get: { $0.sink }, set: { $0.sink = $1 }),
        Setting(
            name: "PIXELGATE_DATA_PLANE_URL",
            meaning: "RudderStack data plane URL, for forwarding and draining",
            defaultText: "none",
            parser: { v, config in
                // Empty is the same as unset: a template may leave the line in.
                if v.isEmpty { return nil }
                guard v.hasPrefix("http://") || v.hasPrefix("https://") else {
                    return "must be an http:// or https:// URL, got '\(URLRedaction.redacted(v))'"
                }
                config.dataPlaneURL = v
                return nil
            },
            printer: { $0.dataPlaneURL.map(URLRedaction.redacted) ?? "" }),
        Setting(
            name: "PIXELGATE_WRITE_KEYS",
            meaning: "comma-separated write keys to accept",
            defaultText: "empty: any",
            parser: { v, config in
                config.writeKeys = Set(listItems(v))
                return nil
            },
            // A write key is a credential of sorts: `check` shows how many.
            printer: { $0.writeKeys.isEmpty ? "" : "(\($0.writeKeys.count) keys)" }),
        Setting(
            name: "PIXELGATE_SIGNING_KEYS",
            meaning: "`writeKey:secret` pairs, comma-separated: hits for these write keys must carry a good `sig` "
                + "([Signed pixel URLs](email.md#signed-pixel-urls)); secrets of 16 bytes or more",
            defaultText: "empty: no signatures",
            parser: { v, config in
                for item in listItems(v) {
                    guard let colon = item.firstIndex(of: ":"), colon != item.startIndex, item.index(after: colon) != item.endIndex else {
                        // At most 40 characters: enough to find the entry, little of a secret.
                        return "each entry must be writeKey:secret, got '\(item.prefix(40))'"
                    }
                    let secret = String(item[item.index(after: colon)...])
                    guard secret.utf8.count >= 16 else { return "the secret for '\(item[..<colon])' is shorter than 16 bytes" }
                    config.signingKeys[String(item[..<colon])] = secret
                }
                return nil
            },
            printer: { $0.signingKeys.isEmpty ? "" : "(\($0.signingKeys.count) keys, secrets not shown)" }),
        keyword(
            "PIXELGATE_RESPONSE",
            meaning: "`text`, `gif` (1×1 GIF on success) or `gif-always` (GIF for every GET of a page or track pixel, refused hits still recorded unless of a kind dropped by `PIXELGATE_HIT_CLASSES` or `PIXELGATE_CONSENT`)",
            defaultText: "`text`", get: { $0.response }, set: { $0.response = $1 }),
        Setting(
            name: "PIXELGATE_TRUSTED_PROXIES",
            meaning: "comma-separated addresses or CIDRs whose `X-Forwarded-For` is believed",
            defaultText: "empty: none",
            parser: { v, config in
                var networks: [IPNetwork] = []
                for item in listItems(v) {
                    guard let network = IPNetwork(item) else { return "'\(item)' is not an address or CIDR range" }
                    networks.append(network)
                }
                config.trustedProxies = networks
                return nil
            },
            printer: { $0.trustedProxies.map { $0.description }.joined(separator: ",") }),
        Setting(
            name: "PIXELGATE_HIT_CLASSES",
            meaning: "what to do with each class of hit ([Machine opens](traffic.md)): `class=action` pairs, comma-separated, classes `human`, `mail-proxy`, `prefetch`, `bot`, actions `record`, `mark` (add `context.traffic`) or `drop` (answer as usual, store nothing, count it); classes not named keep their default",
            defaultText: "`human=record,mail-proxy=mark,prefetch=mark,bot=mark`",
            parser: { v, config in
                do throws(SettingProblem) {
                    config.hitClasses = try HitClassPolicy.parse(v)
                } catch {
                    return error.message
                }
                return nil
            },
            printer: { $0.hitClasses.description }),
        keyword(
            "PIXELGATE_CONSENT",
            meaning: "hits whose browser sends `DNT: 1` or `Sec-GPC: 1`: `record`, `anonymize` (no address, no user agent stored) or `drop` (answer as usual, store nothing, count it)",
            defaultText: "`record`", get: { $0.consent }, set: { $0.consent = $1 }),
        keyword(
            "PIXELGATE_DERIVE_ANONYMOUS_ID",
            meaning: "a hit without `anonymousId` (a `<noscript>` pixel, an e-mail template without one): `off` refuses it (`400`, the Pixel API's rule) or `daily` gives it an id derived from the write key, the client's address and user agent under a secret the spool makes each day and forgets the next: the same visitor has the same id all day on one site, and cannot be followed across days or sites ([Privacy](privacy.md))",
            defaultText: "`off`", get: { $0.deriveAnonymousId }, set: { $0.deriveAnonymousId = $1 }),
        onOff(
            "PIXELGATE_CLASS_HEADER",
            meaning: "add `X-Pixelgate-Class: <class>; rule=<rule>` to the answers of pixel and click hits, to see how a deployment's hits are classed ([Machine opens](traffic.md)); it tells every client, bots included, which rule caught it, so turn it off again: `on` or `off`",
            defaultText: "`off`", get: { $0.classHeader }, set: { $0.classHeader = $1 }),
        Setting(
            name: "PIXELGATE_ADDRESS_RANGES",
            meaning: "a file of address lists (`list NAME`, then CIDR ranges, one a line) that replace the compiled-in lists of the same names, which the traffic rules match client addresses against ([Machine opens](traffic.md#address-ranges)); write it with `pixelgate ranges import`; a list of a name no rule uses, an empty list, or a line that is not a range, is a fatal problem",
            defaultText: "empty: the lists compiled in (`pixelgate ranges`)",
            parser: { v, config in
                let path = String(Substring(v).trimmingSpaces())
                guard path.isEmpty || path.hasPrefix("/") else { return "'\(path)' is not an absolute path (a web server's working directory is not yours)" }
                config.addressRangesFile = path
                return nil
            },
            printer: { $0.addressRangesFile }),
        onOff(
            "PIXELGATE_ANONYMIZE_IP",
            meaning: "store client addresses shortened, in `request_ip` and `context.ip` (IPv4's last octet and IPv6's last 80 bits zeroed; the IPv4 inside a 6to4, Teredo or NAT64 address loses its last octet), and so in `rejected/` and the log: `on` or `off`",
            defaultText: "`off`", get: { $0.anonymizeIP }, set: { $0.anonymizeIP = $1 }),
        Setting(
            name: "PIXELGATE_SECRET_PARAMETERS",
            meaning: "comma-separated words: a parameter whose name contains one (ignoring case, `_`, `-` and `.`) is removed before the event is stored, and the log says which; `none` keeps every parameter (empty is the default)",
            defaultText: "`password,passwd,pwd,passphrase,secret,token,api_key,access_key,private_key,authorization,credential,sessionid,sessid,csrf,cardnumber,cvv,cvc`",
            parser: { v, config in
                let items = listItems(v)
                // Empty is unset (a template may leave the line in): only
                // `none` turns the check off, so it never fails open.
                if items.isEmpty {
                    config.secretNames = .default
                    return nil
                }
                if items.count == 1 && items[0].lowercased() == "none" {
                    config.secretNames = .none
                    return nil
                }
                guard items.count <= SecretNames.maxWords else { return "at most \(SecretNames.maxWords) words, got \(items.count)" }
                if let short = items.first(where: { SecretNames.folded($0.utf8).count < SecretNames.minWordBytes }) {
                    return "each word needs \(SecretNames.minWordBytes) letters or more (a shorter one matches nearly every name), got '\(short.prefix(40))'"
                }
                config.secretNames = SecretNames(items)
                return nil
            },
            printer: { $0.secretNames.isEmpty ? "none" : $0.secretNames.listed.joined(separator: ",") }),
        wholeNumber(
            "PIXELGATE_MAX_QUERY_BYTES", meaning: "longest query (→ 414)", defaultText: "`16384`",
            bounds: PixelLimits.maxQueryBytesBounds, get: { $0.limits.maxQueryBytes }, set: { $0.limits.maxQueryBytes = $1 }),
        wholeNumber(
            "PIXELGATE_MAX_PAIRS", meaning: "most `name=value` pairs", defaultText: "`256`",
            bounds: PixelLimits.maxPairsBounds, get: { $0.limits.maxPairs }, set: { $0.limits.maxPairs = $1 }),
        wholeNumber(
            "PIXELGATE_MAX_KEY_BYTES", meaning: "longest parameter name", defaultText: "`256`",
            bounds: PixelLimits.maxKeyBytesBounds, get: { $0.limits.maxKeyBytes }, set: { $0.limits.maxKeyBytes = $1 }),
        wholeNumber(
            "PIXELGATE_MAX_DEPTH", meaning: "most dot segments in a name", defaultText: "`16`",
            bounds: PixelLimits.maxDepthBounds, get: { $0.limits.maxDepth }, set: { $0.limits.maxDepth = $1 }),
        wholeNumber(
            "PIXELGATE_MAX_ARRAY_INDEX", meaning: "highest array index", defaultText: "`255`",
            bounds: PixelLimits.maxArrayIndexBounds, get: { $0.limits.maxArrayIndex }, set: { $0.limits.maxArrayIndex = $1 }),
        wholeNumber(
            "PIXELGATE_MAX_EVENT_BYTES",
            meaning: "largest event as JSON (→ `400 event too large`); at most 3,900,000, under the data plane's 4,000 KB request limit",
            defaultText: "`64k`",
            bounds: PixelLimits.maxEventBytesBounds, get: { $0.limits.maxEventBytes }, set: { $0.limits.maxEventBytes = $1 }),
        wholeNumber(
            "PIXELGATE_SEAL_BYTES", meaning: "seal the active spool file at this size (`64k`, `8M` …)", defaultText: "`8M`",
            bounds: SpoolSettings.sealBytesBounds, get: { $0.spool.sealBytes }, set: { $0.spool.sealBytes = $1 }),
        Setting(
            name: "PIXELGATE_SEAL_SECONDS",
            meaning: "…or at this age (`60`, `2m` …)",
            defaultText: "`60`",
            parser: { v, config in
                let bounds = SpoolSettings.sealSecondsBounds
                let millis = Int64(bounds.lowerBound) * 1000...Int64(bounds.upperBound) * 1000
                guard let ms = SettingText.durationMillis(v, defaultUnit: 1000), millis.contains(ms) else {
                    return SettingText.durationProblem(millis, got: v)
                }
                config.spool.sealSeconds = Int(ms / 1000)
                return nil
            },
            printer: { "\($0.spool.sealSeconds)" }),
        Setting(
            name: "PIXELGATE_FSYNC",
            meaning: "`never`, `always`, or an interval (`1s`, `250ms`)",
            defaultText: "`never`",
            parser: { v, config in
                switch String(Substring(v).trimmingSpaces()).lowercased() {
                case "never": config.spool.fsync = .never
                case "always": config.spool.fsync = .always
                default:
                    guard let ms = SettingText.durationMillis(v, defaultUnit: nil),
                          SpoolSettings.fsyncIntervalMillisBounds.contains(ms) else {
                        return "must be never, always or an interval such as 1s or 250ms, got '\(v)'"
                    }
                    config.spool.fsync = .interval(millis: ms)
                }
                return nil
            },
            printer: { $0.spool.fsync.description }),
        wholeNumber(
            "PIXELGATE_REJECTED_MAX_BYTES",
            meaning: "cap on refused hits in `rejected/hits.ndjson` (events the data plane refused are always kept)",
            defaultText: "`64M`",
            bounds: SpoolSettings.rejectedMaxBytesBounds, get: { $0.spool.rejectedMaxBytes }, set: { $0.spool.rejectedMaxBytes = $1 }),
        Setting(
            name: "PIXELGATE_REQUEST_TIMEOUT",
            meaning: "how long a connection to `serve` may take to deliver its request (or, kept by the web server, "
                + "wait for the next) before it is closed",
            defaultText: "`5s`",
            parser: { v, config in
                let bounds = PixelConfiguration.requestTimeoutMillisBounds
                guard let ms = SettingText.durationMillis(v, defaultUnit: 1000), bounds.contains(ms) else {
                    return SettingText.durationProblem(bounds, got: v)
                }
                config.requestTimeoutMillis = ms
                return nil
            },
            printer: { "\($0.requestTimeoutMillis)ms" }),
        milliseconds(
            "PIXELGATE_EARLY_CLICK",
            meaning: "a click on a link `pixelgate sign --target` made (it says when: `st=`) that comes sooner than this after the signing is classed `bot`, rule `click-before-read`: mail security scanners follow every link on delivery, people take longer; `0` turns it off ([E-mail tracking](email.md))",
            defaultText: "`5s`",
            bounds: PixelConfiguration.earlyClickMillisBounds, get: { $0.earlyClickMillis }, set: { $0.earlyClickMillis = $1 }),
        milliseconds(
            "PIXELGATE_FORWARD_TIMEOUT",
            meaning: "how long `forward` waits for the data plane before spooling instead",
            defaultText: "`2s`",
            bounds: PixelConfiguration.forwardTimeoutMillisBounds, get: { $0.forwardTimeoutMillis }, set: { $0.forwardTimeoutMillis = $1 }),
        wholeNumber(
            "PIXELGATE_BATCH_BYTES",
            meaning: "largest batch body the drain sends, before compression (the data plane takes up to 4,000 KB)",
            defaultText: "`512k`",
            bounds: PixelConfiguration.batchBytesBounds, get: { $0.batchBytes }, set: { $0.batchBytes = $1 }),
        onOff(
            "PIXELGATE_GZIP",
            meaning: "send bodies to the data plane gzipped (`Content-Encoding: gzip`, zlib's fastest level: event JSON still shrinks several times over, for a fraction of the CPU of the default level): `on` or `off`",
            defaultText: "`on`", get: { $0.gzip }, set: { $0.gzip = $1 }),
        keyword(
            "PIXELGATE_LOG_LEVEL",
            meaning: "the least a line must matter to be logged: `debug` (adds a line for every stored event), `info`, `warn` or `error`",
            defaultText: "`info`", get: { $0.logLevel }, set: { $0.logLevel = $1 }),
        Setting(
            name: "PIXELGATE_LOG_REFUSED",
            meaning: "which refused-hit lines are logged: `all`, `none`, or a number N for one in N at random (`pixelgate stats` counts every refused hit by reason either way)",
            defaultText: "`all`",
            parser: { v, config in
                guard let choice = RefusedLogging(String(Substring(v).trimmingSpaces())) else {
                    return "must be all, none or a number from 1 to \(RefusedLogging.maxSampling), got '\(v)'"
                }
                config.refusedLogging = choice
                return nil
            },
            printer: { $0.refusedLogging.description }),
    ]

    /// docs/configuration.md's table of settings, header included, one line per row: what
    /// the docs test compares with that file, and what to paste there after
    /// changing a setting (`print(SettingsTable.markdownTable)`).
    public static var markdownTable: String {
        (["| variable | meaning | default |", "|---|---|---|"] + settings.map { $0.markdownRow }).joined(separator: "\n")
    }

    /// A duration (`5s`, `250ms`, seconds without a unit) within `bounds`
    /// milliseconds, shown in milliseconds.
    static func milliseconds(_ name: String, meaning: String, defaultText: String, bounds: ClosedRange<Int>,
                             get: @escaping @Sendable (PixelConfiguration) -> Int,
                             set: @escaping @Sendable (inout PixelConfiguration, Int) -> Void) -> Setting
    {
        Setting(
            name: name, meaning: meaning, defaultText: defaultText,
            parser: { v, config in
                let millis = Int64(bounds.lowerBound)...Int64(bounds.upperBound)
                guard let ms = SettingText.durationMillis(v, defaultUnit: 1000), millis.contains(ms) else {
                    return SettingText.durationProblem(millis, got: v)
                }
                set(&config, Int(ms))
                return nil
            },
            printer: { "\(get($0))ms" })
    }


    /// A size setting (`4096`, `64k`, `8M`) stored as an `Int` by `set`,
    /// refused outside `bounds`; `check` shows it in bytes. The field is
    /// reached through closures, not a key path: the table's eight key paths
    /// cost a CGI start 130,000 instructions to instantiate (issue 27).
    static func wholeNumber(_ name: String, meaning: String, defaultText: String, bounds: ClosedRange<Int>,
                            get: @escaping @Sendable (PixelConfiguration) -> Int,
                            set: @escaping @Sendable (inout PixelConfiguration, Int) -> Void) -> Setting
    {
        Setting(
            name: name, meaning: meaning, defaultText: defaultText,
            parser: { v, config in
                guard let n = SettingText.size(v), bounds.contains(n) else { return SettingText.wholeNumberProblem(bounds, got: v) }
                set(&config, n)
                return nil
            },
            printer: { "\(get($0))" })
    }

    /// A setting that is one of an enum's raw values (`spool`, `forward`),
    /// in any case, spaces and tabs around it ignored; `check` shows the
    /// raw value. The message lists the values in the enum's order. The
    /// field is reached through closures, not a key path: a CGI process
    /// reads its settings once, and each key path to a field of a new type
    /// costs it that type's metadata at run time.
    static func keyword<Value: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, meaning: String, defaultText: String,
        get: @escaping @Sendable (PixelConfiguration) -> Value, set: @escaping @Sendable (inout PixelConfiguration, Value) -> Void
    ) -> Setting where Value.RawValue == String {
        Setting(
            name: name, meaning: meaning, defaultText: defaultText,
            parser: { v, config in
                guard let value = Value(rawValue: String(Substring(v).trimmingSpaces()).lowercased()) else {
                    let names = Value.allCases.map { $0.rawValue }
                    return "must be \(names.dropLast().joined(separator: ", ")) or \(names.last ?? ""), got '\(v)'"
                }
                set(&config, value)
                return nil
            },
            printer: { get($0).rawValue })
    }

    /// A switch: `on`, `true`, `yes`, `1` or their opposites, in any case,
    /// spaces and tabs around it ignored; `check` shows `on` or `off`.
    static func onOff(_ name: String, meaning: String, defaultText: String,
                      get: @escaping @Sendable (PixelConfiguration) -> Bool,
                      set: @escaping @Sendable (inout PixelConfiguration, Bool) -> Void) -> Setting {
        Setting(
            name: name, meaning: meaning, defaultText: defaultText,
            parser: { v, config in
                switch String(Substring(v).trimmingSpaces()).lowercased() {
                case "on", "true", "yes", "1": set(&config, true)
                case "off", "false", "no", "0": set(&config, false)
                default: return "must be on or off, got '\(v)'"
                }
                return nil
            },
            printer: { get($0) ? "on" : "off" })
    }

    /// The entries of a comma-separated list, spaces and tabs around each
    /// taken off and empty ones (`a,,b`, a trailing comma) dropped.
    static func listItems(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0.trimmingSpaces()) }.filter { !$0.isEmpty }
    }
}
