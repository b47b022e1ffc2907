import PixelCore
import PixelServer
import PixelSpool
import PixelSystem

/// `pixelgate stats [--json]`: the backlog waiting for the drain and what
/// `rejected/` holds, for a person or for monitoring.
struct StatsCommand: Subcommand {
    static let name = "stats"
    static let synopses = ["stats [--json]"]
    static let summary = "the backlog waiting for the drain (files, events, bytes, oldest age), what rejected/ holds, and hits dropped by choice"

    static let json = Flag("--json", help: "one JSON object, for monitoring")
    static let options = [json.spec]

    let json: Bool

    init(_ arguments: ParsedArguments) throws(UsageError) {
        try Self.noArguments(arguments, "stats takes only --json")
        json = arguments[Self.json]
    }

    func run() -> Int32 {
        let (configuration, problems) = ConfigurationLoader.load()
        if let fatal = problems.first(where: { $0.isFatal && $0.setting == "PIXELGATE_SPOOL_DIR" }) {
            printError("pixelgate: configuration: \(fatal)\n")
            return Exit.configuration
        }
        if let left = ConfigurationLoader.eventsLeftInFormerDefault(spoolDirectory: configuration.spoolDirectory) {
            printError("pixelgate: warning: \(left)\n")
        }
        let backlog: SpoolStatus.Backlog
        do {
            backlog = try SpoolStatus.backlog(SpoolLayout(directory: configuration.spoolDirectory), nowMillis: SystemClock.nowMillis())
        } catch {
            printError("pixelgate: cannot read the spool: \(error)\n")
            return Exit.localFailure
        }
        if json {
            // Counts as JSON numbers: this output is for tools, not a RudderStack event.
            var out = JSONWriter()
            out.raw(#"{"spool":"#)
            out.string(configuration.spoolDirectory)
            out.raw(#","backlog":{"files":"#)
            out.integer(backlog.files)
            out.raw(#","events":"#)
            out.integer(backlog.events)
            out.raw(#","bytes":"#)
            out.integer(backlog.bytes)
            out.raw(#","oldestAgeSeconds":"#)
            if let age = backlog.oldestAgeSeconds { out.integer(age) } else { out.null() }
            out.raw(#"},"rejected":{"records":"#)
            out.integer(backlog.rejectedRecords)
            out.raw(#","bytes":"#)
            out.integer(backlog.rejectedBytes)
            out.raw(#"},"dropped":{"#)
            for (i, reason) in DroppedHit.allCases.enumerated() {
                if i > 0 { out.raw(",") }
                out.string(reason.rawValue)
                out.raw(":")
                out.integer(backlog.dropped[i])
            }
            out.raw("}}\n")
            printOut(String(decoding: out.bytes, as: UTF8.self))
        } else {
            let age = backlog.oldestAgeSeconds.map { "oldest \($0) s" } ?? "none waiting"
            printOut("spool \(configuration.spoolDirectory)\n"
                + "backlog: \(backlog.files) file(s), \(backlog.events) events, \(backlog.bytes) bytes, \(age)\n"
                + "rejected: \(backlog.rejectedRecords) records, \(backlog.rejectedBytes) bytes\n"
                + "dropped by choice: " + DroppedHit.allCases.enumerated().map { "\($1.rawValue) \(backlog.dropped[$0])" }.joined(separator: ", ") + "\n")
        }
        return Exit.ok
    }
}
