import PixelCore
import PixelServer
import PixelSpool

/// `pixelgate check`: what a request would meet (settings, their sources,
/// the spool), printed before a web server finds out.
struct CheckCommand: Subcommand {
    static let name = "check"
    static let synopses = ["check"]
    static let summary = "validate the configuration and the spool, print the effective settings; exits 1 when something is wrong"
    static let options: [OptionSpec] = []

    init(_ arguments: ParsedArguments) throws(UsageError) {
        try Self.noArguments(arguments)
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
        out += ok ? "ok\n" : "not ok: requests would be answered 500 or 503\n"
        printOut(out)
        return ok ? Exit.ok : Exit.localFailure
    }
}
