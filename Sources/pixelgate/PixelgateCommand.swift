import PixelCore
import PixelServer

/// The `pixelgate` command line: picks the responder mode or a subcommand,
/// and assembles the global usage text from the commands' own descriptions,
/// so a new command is one file and one line in `subcommands`.
/// (scripts/dist reads `version` from this file.)
enum PixelgateCommand {
    static let version = "0.1.0"

    /// How pixelgate names itself to the data plane.
    static let userAgent = "pixelgate/\(version)"

    /// In the order the usage text lists them.
    static let subcommands = [
        Entry(ServeCommand.self), Entry(DrainCommand.self), Entry(RequeueCommand.self),
        Entry(SignCommand.self), Entry(StatsCommand.self), Entry(CheckCommand.self), Entry(RangesCommand.self),
    ]

    /// A subcommand as the dispatcher holds it: its description, and its
    /// help and parse-and-run bound to its type. (Not `any Subcommand.Type`:
    /// Swift 6.3's SILGen crashes on a typed-throws `init` reached through an
    /// existential metatype.)
    struct Entry: Sendable {
        let name: String
        let synopses: [String]
        let summary: String
        let help: @Sendable () -> String
        let run: @Sendable ([String]) -> Int32

        init<Command: Subcommand>(_ command: Command.Type) {
            name = Command.name
            synopses = Command.synopses
            summary = Command.summary
            help = { Command.help }
            run = { PixelgateCommand.run(Command.self, $0) }
        }
    }

    /// `arguments` is read only when no web server started us: a CGI hit
    /// does not pay for the array of strings.
    static func run(_ readArguments: () -> [String]) -> Int32 {
        // A CGI request may carry argv (an "ISINDEX" query without '='):
        // when a web server started us, the arguments are not ours.
        if ConfigurationLoader.variable("GATEWAY_INTERFACE") != nil {
            return ResponderCommand().run()
        }
        let arguments = readArguments()
        if arguments.isEmpty {
            return ResponderCommand().run()
        }
        let name = arguments[0]
        if let command = subcommands.first(where: { $0.name == name }) {
            return command.run(Array(arguments.dropFirst()))
        }
        switch name {
        case "--help", "-h", "help":
            guard let topic = arguments.dropFirst().first else {
                printOut(usage)
                return Exit.ok
            }
            guard arguments.count == 2, let command = subcommands.first(where: { $0.name == topic }) else {
                printError("pixelgate: help takes one command's name: \(subcommands.map(\.name).joined(separator: ", "))\n")
                return Exit.usage
            }
            printOut(command.help())
            return Exit.ok
        case "--version", "-V", "version":
            printOut("pixelgate \(version)\n")
            return Exit.ok
        default:
            // As git answers a slip: one line, the likely command, where
            // the list is; not the whole usage.
            var text = name.hasPrefix("-") ? "pixelgate: unknown option '\(name)'" : "pixelgate: '\(name)' is not a pixelgate command"
            let known = subcommands.map(\.name) + ["help", "version", "--help", "--version"]
            if let meant = Spelling.closest(to: name, among: known) { text += "; did you mean '\(meant)'?" } else { text += "." }
            printError(text + " See 'pixelgate --help'.\n")
            return Exit.usage
        }
    }

    /// Parses `arguments` for `command` and runs it: `--help` prints its
    /// help, a usage mistake one line naming it and where help is (exit 2).
    static func run<Command: Subcommand>(_ command: Command.Type, _ arguments: [String]) -> Int32 {
        do throws(UsageError) {
            switch try OptionParser.parse(arguments, options: command.options, command: command.name) {
            case .help:
                printOut(command.help)
                return Exit.ok
            case .parsed(let parsed):
                return try Command(parsed).run()
            }
        } catch {
            printError("pixelgate: \(error.message)\nrun 'pixelgate \(command.name) --help' for its usage\n")
            return Exit.usage
        }
    }

    /// `pixelgate --help`: every way to run it, with what each does.
    static var usage: String {
        var text = """
        pixelgate \(version): the RudderStack Pixel API (GET /pixel/v1/page, /pixel/v1/track)
        as one CGI/FastCGI executable.

        Usage:

        """
        text += entry(ResponderCommand.synopses, ResponderCommand.summary)
        for command in subcommands {
            text += entry(command.synopses, command.summary)
        }
        text += entry(["COMMAND --help | help COMMAND"], "a command's usage and options")
        text += "  pixelgate --help | --version\n\n"
        return text + HelpText.exitCodes + "\n\n" + HelpText.settings
    }

    /// One command in the usage list: its synopses, then its summary from
    /// the summary column (beside the last synopsis when that is short).
    private static func entry(_ synopses: [String], _ summary: String) -> String {
        let lines = synopses.map { "  pixelgate" + ($0.isEmpty ? "" : " " + $0) }
        return lines.dropLast().map { $0 + "\n" }.joined()
            + HelpText.column(lines.last ?? "", HelpText.wrap(summary, indent: HelpText.summaryColumn))
    }
}
