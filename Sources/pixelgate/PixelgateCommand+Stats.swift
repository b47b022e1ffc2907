import PixelCore
import PixelServer
import PixelSpool
import PixelSystem

extension PixelgateCommand {
    /// `pixelgate stats [--json]`: the backlog waiting for the drain and what
    /// `rejected/` holds.
    static func stats(_ arguments: [String]) -> Int32 {
        guard arguments.isEmpty || arguments == ["--json"] else { return usageError("stats takes only --json") }
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
            return 1
        }
        if arguments == ["--json"] {
            // Counts as JSON numbers: this output is for tools, not a RudderStack event.
            let spool = JSONValue.string(configuration.spoolDirectory).jsonString
            let age = backlog.oldestAgeSeconds.map(String.init) ?? "null"
            printOut(#"{"spool":\#(spool),"backlog":{"files":\#(backlog.files),"events":\#(backlog.events),"bytes":\#(backlog.bytes),"oldestAgeSeconds":\#(age)},"rejected":{"records":\#(backlog.rejectedRecords),"bytes":\#(backlog.rejectedBytes)}}"# + "\n")
        } else {
            let age = backlog.oldestAgeSeconds.map { "oldest \($0) s" } ?? "none waiting"
            printOut("spool \(configuration.spoolDirectory)\n"
                + "backlog: \(backlog.files) file(s), \(backlog.events) events, \(backlog.bytes) bytes, \(age)\n"
                + "rejected: \(backlog.rejectedRecords) records, \(backlog.rejectedBytes) bytes\n")
        }
        return 0
    }
}
