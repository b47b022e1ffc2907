import PixelCore
import PixelServer
import PixelSpool

/// `pixelgate check`: what a request would meet (settings, their sources,
/// the spool, libcurl), printed before a web server finds out; with
/// `--connect`, whether the data plane answers and knows the write keys.
struct CheckCommand: Subcommand {
    static let name = "check"
    static let synopses = ["check [--connect [--write-key KEY]]"]
    static let summary = "validate the configuration, the spool and libcurl, print the effective settings; --connect also asks the data plane whether it knows each write key, sending no event"
    static let details = """
    --connect posts an empty batch ({"batch":[]}) to the data plane's /v1/batch
    for each write key in PIXELGATE_WRITE_KEYS and PIXELGATE_SIGNING_KEYS (or
    the one --write-key names). RudderStack checks the key before the body and
    answers 400 "empty batch payload" for a key it knows, 401 for one it does
    not and 404 "source is disabled": no event is stored either way.

    Exit codes:
      0   everything checked is usable
      1   the spool is not usable (its path, owner, modes, room)
      2   usage: a wrong option
      75  --connect: the data plane could not be reached or answered 5xx/429
      78  a setting or the settings file is wrong, or libcurl is missing while
          forwarding or draining needs it; with --connect, the data plane refused
          a write key or is not one (a redirect, 404, an HTML page, TLS failing),
          or there is no URL or key to try
    """

    static let connect = Flag("--connect", help: "also ask the data plane whether it knows each write key (an empty batch, no event)")
    static let writeKey = Option<String>("--write-key", "KEY", takes: "a write key",
                                         help: "with --connect, the write key to try instead of those configured") { $0.isEmpty ? nil : $0 }
    static let options = [connect.spec, writeKey.spec]

    let connects: Bool
    let writeKeyToTry: String?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        try Self.noArguments(arguments)
        connects = arguments[Self.connect]
        writeKeyToTry = arguments[Self.writeKey]
        if writeKeyToTry != nil && !connects { throw UsageError("--write-key is for --connect") }
    }

    func run() -> Int32 {
        let (configuration, problems, file) = ConfigurationLoader.loadNamingFile()
        // Exit 78 for what the settings get wrong, 1 for what the host does.
        var exit = Exit.ok
        var out = "pixelgate \(PixelgateCommand.version) configuration\n"
        if let file { out += "  config file: \(file)\n" }
        for (name, value) in configuration.effectiveSettings {
            let source = configuration.sources[name] ?? "default"
            out += "  \(name)=\(value)    (\(source))\n"
        }
        for problem in problems {
            out += "\(problem.failsCheck ? "error" : "warning"): \(problem)\n"
            if problem.failsCheck { exit = Exit.configuration }
        }
        // Said plainly: an empty allow-list is a choice, but one a slip in
        // the setting's name also makes.
        if configuration.writeKeys.isEmpty {
            out += "warning: PIXELGATE_WRITE_KEYS is empty: hits with any write key are accepted and stored"
                + (configuration.signingKeys.isEmpty ? "" : " (those of PIXELGATE_SIGNING_KEYS' keys only when signed)") + "\n"
        }
        // What the mistakes below mean for the site, for the summary.
        var consequences: [String] = []
        if problems.contains(where: { $0.isFatal }) {
            consequences.append("every hit is answered 500 until the settings are fixed")
        } else if problems.contains(where: { $0.failsCheck }) {
            consequences.append("hits are answered, but a setting is wrong")
        }
        if let left = ConfigurationLoader.eventsLeftInFormerDefault(spoolDirectory: configuration.spoolDirectory) {
            out += "warning: \(left)\n"
        }
        let layout = SpoolLayout(directory: configuration.spoolDirectory)
        do {
            let owner = try SpoolStatus.probeWritable(layout)
            let status = try SpoolStatus.inspect(layout)
            let sharing = owner.groupShared ? "shared with group \(owner.gid) (set-group-ID), files 0660" : "private to its owner, files 0600"
            out += "spool \(layout.directory): writable; owner uid \(owner.uid), \(sharing)\n"
            out += "spool \(layout.directory): active \(status.activeBytes) bytes, \(status.sealedFiles) sealed files (\(status.sealedBytes) bytes), rejected \(status.rejectedBytes) bytes\n"
        } catch {
            out += "error: spool \(layout.directory) is not usable: \(error)\n"
            if exit == Exit.ok { exit = Exit.localFailure }
            consequences.append("hits that must be stored would be answered 503")
        }
        // Forwarding and the drain load libcurl when they start: a host
        // without it finds out here, not from a drain that never delivers.
        var client: DataPlaneClient?
        if let url = configuration.dataPlaneURL {
            do {
                client = try DataPlaneClient(dataPlaneURL: url, timeoutMillis: 10_000, gzip: configuration.gzip,
                                             userAgent: PixelgateCommand.userAgent)
                out += "libcurl: loaded, for " + (configuration.sink == .forward ? "forwarding and the drain" : "the drain") + "\n"
            } catch {
                out += "error: \(error.detail): " + (configuration.sink == .forward ? "forwarding and the drain need" : "the drain needs")
                    + " it (Debian and Ubuntu: apt-get install libcurl4; RHEL and Alma: dnf install libcurl)\n"
                exit = Exit.configuration
                consequences.append(configuration.sink == .forward ? "hits to forward would be answered 503, and nothing delivered"
                                                                   : "hits are stored, but the drain cannot deliver them")
            }
        }
        guard exit == Exit.ok else {
            out += "not ok: " + consequences.joined(separator: "; ") + "\n"
            printOut(out)
            return exit
        }
        out += "ok\n"
        printOut(out)
        guard connects else { return Exit.ok }
        return probeDataPlane(client, configuration)
    }

    /// `--connect`: one empty batch per write key; the worst answer decides
    /// the exit code.
    func probeDataPlane(_ client: DataPlaneClient?, _ configuration: PixelConfiguration) -> Int32 {
        guard let client, let url = configuration.dataPlaneURL else {
            printOut("connect: not ok: PIXELGATE_DATA_PLANE_URL is not set\n")
            return Exit.configuration
        }
        let keys = writeKeyToTry.map { [$0] } ?? Array(configuration.writeKeys.union(configuration.signingKeys.keys)).sorted()
        guard !keys.isEmpty else {
            printOut("connect: not ok: no write key to try: PIXELGATE_WRITE_KEYS lists none; name one with --write-key KEY\n")
            return Exit.configuration
        }
        let empty = Array(#"{"batch":[]}"#.utf8)
        var worst = Exit.ok
        for key in keys {
            var (verdict, code) = Self.verdict(client.post(writeKey: key, prepared: client.prepare(empty)))
            if code == Self.maybeNoGzip && !configuration.gzip {
                code = Exit.ok
            } else if code == Self.maybeNoGzip {
                // "Invalid JSON" to a gzipped empty batch: a gateway of
                // v1.10 to v1.14, or one that does not read gzip bodies.
                let plain = Self.verdict(client.post(writeKey: key, prepared: PreparedBody(bytes: empty, gzipped: false)))
                (verdict, code) = plain.1 == Exit.ok && plain.0.containsOccurrence(of: "empty batch payload")
                    ? ("known, but the data plane does not read gzip bodies: set PIXELGATE_GZIP=off", Exit.configuration)
                    : (plain.1 == Self.maybeNoGzip ? (plain.0, Exit.ok) : plain)
            }
            printOut("connect: \(URLRedaction.redacted(url)) write key '\(key)': \(verdict)\n")
            if code == Exit.configuration || (code == Exit.unavailable && worst == Exit.ok) { worst = code }
        }
        printOut(worst == Exit.ok ? "connect: ok\n" : "connect: not ok\n")
        return worst
    }

    /// An answer that is right unless the body was gzipped: asked again plain.
    static let maybeNoGzip: Int32 = -1

    /// What the data plane's answer to an empty batch says of a key, and
    /// the exit code it deserves. RudderStack's gateway checks the key
    /// before it reads the body: 400 "empty batch payload" (v1.15 on;
    /// "Invalid JSON" before) for a key it knows, 401 "invalid write key",
    /// 404 "source is disabled", 401 "failed to read writekey from header"
    /// when no credentials came; gateways before v1.10 answered 200 "OK".
    static func verdict(_ answer: DataPlaneClient.Answer) -> (String, Int32) {
        if answer.transportError != 0 {
            if DataPlaneClient.isConfigurationError(answer.transportError, answer.transportMessage) {
                return ("not reached: \(answer.transportMessage): check the URL's scheme, host and port, and its certificate", Exit.configuration)
            }
            return ("data plane unavailable: \(answer.transportMessage)", Exit.unavailable)
        }
        let said = String(Substring(DataPlaneClient.words(answer.body)).trimmingSpaces())
        let words = said.lowercased()
        let status = answer.status
        switch status {
        case 200..<300:
            if words == "ok" {
                return ("known (HTTP \(status) \"\(said)\": a gateway before v1.10, which keeps an empty batch as a job with no events)", Exit.ok)
            }
            return ("not a data plane: HTTP \(status) \"\(said.prefix(80))\" is not RudderStack's answer; check PIXELGATE_DATA_PLANE_URL", Exit.configuration)
        case 400 where words.hasPrefix("empty batch payload"):
            return ("known (HTTP 400 \"\(said)\" to an empty batch, as the data plane answers a key it accepts)", Exit.ok)
        case 400 where words.hasPrefix("invalid json"):
            return ("known (HTTP 400 \"\(said)\" to an empty batch, as gateways v1.10 to v1.14 answer a key they accept)", maybeNoGzip)
        case 401 where words.hasPrefix("failed to read writekey"):
            return ("no key arrived (HTTP 401 \"\(said)\"): something between pixelgate and the data plane removes the Authorization header", Exit.configuration)
        case 401, 403:
            return ("refused (HTTP \(status) \"\(said)\"): check the key and its source in RudderStack", Exit.configuration)
        case 404 where words.hasPrefix("source is disabled"):
            return ("refused: its source is disabled in RudderStack (HTTP 404)", Exit.configuration)
        case 300..<400:
            return ("not reached: HTTP \(status), redirecting to \(answer.location.map(URLRedaction.redacted) ?? "nowhere"): set PIXELGATE_DATA_PLANE_URL to the data plane's own address", Exit.configuration)
        case 408, 429, 500...599:
            return ("data plane unavailable: HTTP \(status) \"\(said)\"", Exit.unavailable)
        default:
            let page = said.hasPrefix("<") ? "an HTML page" : "\"\(said)\""
            return ("not a data plane: HTTP \(status) \(page); check PIXELGATE_DATA_PLANE_URL (the data plane's address, without /v1/batch)", Exit.configuration)
        }
    }
}
