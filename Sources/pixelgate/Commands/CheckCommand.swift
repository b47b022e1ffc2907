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
      1   something is wrong: a setting, the settings file, the spool, or
          libcurl missing while forwarding or draining needs it
      2   usage: a wrong option
      75  --connect: the data plane could not be reached or answered 5xx/429
      78  --connect: the data plane refused a write key, or the URL is not a
          data plane (a redirect, 404, an HTML page)
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
        let (configuration, problems) = ConfigurationLoader.load()
        var ok = true
        var out = "pixelgate \(PixelgateCommand.version) configuration\n"
        if let file = ConfigurationLoader.configFile() { out += "  config file: \(file)\n" }
        for (name, value) in configuration.effectiveSettings {
            let source = configuration.sources[name] ?? "default"
            out += "  \(name)=\(value)    (\(source))\n"
        }
        for problem in problems {
            out += "\(problem.isFatal ? "error" : "warning"): \(problem)\n"
            if problem.isFatal { ok = false }
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
            ok = false
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
                ok = false
            }
        }
        guard ok else {
            out += "not ok: requests would be answered 500 or 503\n"
            printOut(out)
            return Exit.localFailure
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
        var worst = Exit.ok
        for key in keys {
            let (verdict, code) = Self.verdict(client.send(writeKey: key, body: Array(#"{"batch":[]}"#.utf8)))
            printOut("connect: \(URLRedaction.redacted(url)) write key '\(key)': \(verdict)\n")
            if code == Exit.configuration || (code == Exit.unavailable && worst == Exit.ok) { worst = code }
        }
        printOut(worst == Exit.ok ? "connect: ok\n" : "connect: not ok\n")
        return worst
    }

    /// What the data plane's answer to an empty batch says of a key, and
    /// the exit code it deserves.
    static func verdict(_ result: DeliveryResult) -> (String, Int32) {
        func words(_ answer: String) -> String {
            answer.prefix(200).split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
                .trimmingCharacters(in: " \t")
        }
        switch result {
        case .delivered:
            return ("known (HTTP 2xx: an old gateway, before v1.10, which keeps an empty batch as a job with no events)", Exit.ok)
        case .refused(let status, let answer):
            let said = words(answer)
            let lower = said.lowercased()
            if status == 400 && (lower.hasPrefix("empty batch payload") || lower.hasPrefix("invalid json")) {
                return ("known (the data plane answered HTTP 400 \"\(said)\" to an empty batch, as it does for a key it accepts)", Exit.ok)
            }
            if status == 401 || status == 403 {
                return ("refused (HTTP \(status) \"\(said)\"): check the key and its source in RudderStack", Exit.configuration)
            }
            return ("unexpected answer HTTP \(status) \"\(said)\": is PIXELGATE_DATA_PLANE_URL a RudderStack data plane?", Exit.configuration)
        case .misdirected(let status, let reason):
            if status == 404 && reason.lowercased().contains("source is disabled") {
                return ("refused: its source is disabled in RudderStack (HTTP 404)", Exit.configuration)
            }
            return ("not reached: \(reason)", Exit.configuration)
        case .retry(let reason, _):
            return ("data plane unavailable: \(reason)", Exit.unavailable)
        }
    }
}

extension String {
    /// The string without `characters` at either end.
    fileprivate func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        let trimmed = drop(while: { set.contains($0) })
        return String(trimmed.reversed().drop(while: { set.contains($0) }).reversed())
    }
}
