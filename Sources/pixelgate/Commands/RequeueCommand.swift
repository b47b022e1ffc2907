import PixelCore
import PixelServer
import PixelSpool

/// `pixelgate requeue`: once the reason the data plane refused events is
/// fixed, gives them back to the drain instead of leaving them in rejected/.
struct RequeueCommand: Subcommand {
    static let name = "requeue"
    static let synopses = ["requeue"]
    static let summary = "after fixing why the data plane refused events, move rejected/upstream.ndjson back for the next drain"
    static let details = """
    Exit codes:
      0   moved, or nothing to move
      1   the spool could not be read or written; nothing lost
      2   usage: a wrong option
      78  configuration wrong: a setting
    """
    static let options: [OptionSpec] = []

    init(_ arguments: ParsedArguments) throws(UsageError) {
        try Self.noArguments(arguments, "requeue takes no arguments")
    }

    func run() -> Int32 {
        guard let (configuration, _) = ResponderAssembly.loadRefusingFatalProblems(Logger()) else { return Exit.configuration }
        let logger = Logger().following(configuration)
        let writer = SpoolWriter(directory: configuration.spoolDirectory, settings: configuration.spool)
        do {
            guard let (sealed, count) = try writer.requeueRefused() else {
                printOut("requeue: no events refused by the data plane in \(writer.layout.rejectedDirectory)\n")
                return Exit.ok
            }
            printOut("requeue: \(count) event(s) moved back to the spool as \(sealed); the next drain sends them\n")
            return Exit.ok
        } catch {
            logger.log(.error, "requeue: \(error)")
            return Exit.localFailure
        }
    }
}
