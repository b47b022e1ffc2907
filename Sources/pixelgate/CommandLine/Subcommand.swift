/// What the global usage text needs of a way to run pixelgate: how it is
/// written and what it does. The responder mode has only this; subcommands
/// add options and `run`.
protocol CommandDescription: Sendable {
    /// How it is invoked after `pixelgate`, one form a line (drain has two).
    static var synopses: [String] { get }
    /// What it does, one sentence; wrapped where it is shown.
    static var summary: String { get }
}

/// A `pixelgate NAME …` command, in the shape of swift-argument-parser's
/// commands: a description, declared options, an `init` that turns parsed
/// arguments into checked settings (or a usage error), and `run`. Keeping
/// parsing out of `run` means a usage mistake never reads the configuration
/// or touches the spool.
protocol Subcommand: CommandDescription {
    static var name: String { get }
    /// Paragraphs for `--help` after the summary (exit codes, caveats).
    static var details: String { get }
    static var options: [OptionSpec] { get }

    init(_ arguments: ParsedArguments) throws(UsageError)
    /// The process's exit code (see `Exit`).
    func run() -> Int32
}

extension Subcommand {
    static var details: String { "" }

    /// `pixelgate NAME --help`: synopses, summary, details, options.
    static var help: String {
        var text = synopses.enumerated().map { ($0.offset == 0 ? "Usage: " : "       ") + "pixelgate " + $0.element + "\n" }.joined()
        text += "\n" + HelpText.wrap(summary.prefix(1).uppercased() + summary.dropFirst() + ".", indent: 0)
        if !details.isEmpty { text += "\n" + details + "\n" }
        text += "\nOptions:\n"
        for option in options + [Flag("-h, --help", help: "print this help").spec] {
            let label = "  " + option.name + (option.valueName.map { " " + $0 } ?? "")
            text += HelpText.column(label, HelpText.wrap(option.help, indent: HelpText.optionColumn))
        }
        return text + "\n" + HelpText.settings
    }

    /// A usage error when arguments that are not options were given, for
    /// commands that take none; `message` keeps a command's own wording.
    static func noArguments(_ arguments: ParsedArguments, _ message: String? = nil) throws(UsageError) {
        guard let extra = arguments.positionals.first else { return }
        throw UsageError(message ?? "\(name) takes no arguments\(options.isEmpty ? "" : ", only options") (got '\(extra)')")
    }
}

/// Layout shared by the global usage and each command's help.
enum HelpText {
    static let width = 86
    /// Where the global usage starts a command's summary.
    static let summaryColumn = 29
    /// Where `--help` starts an option's description.
    static let optionColumn = 26

    static let settings = """
    Settings come from PIXELGATE_* environment variables over one NAME=value file:
    the one PIXELGATE_CONFIG names (none for no file), else /etc/pixelgate/pixelgate.env
    if it exists, else ~/.config/pixelgate/pixelgate.conf. See pixelgate(8), docs/configuration.md.

    """

    /// Every exit code, for the global usage (each command's help lists
    /// its own; docs/operations.md and the man page list the same).
    static let exitCodes = """
    Exit codes:
      0   done: for drain, every event was delivered, or some refused by the data
          plane and kept in rejected/
      1   a local failure, nothing lost: the spool cannot be read or written
          (permissions, disk full), a file cannot be written, serve cannot listen,
          check found something unusable, or stats found hits are not being stored
      2   usage: a wrong command or option
      65  drain: the data plane refused every event of the pass (kept in rejected/)
      75  the data plane stayed unavailable (network, 5xx, 429): drain, check --connect;
          nothing lost, run again
      78  configuration wrong: a setting, or the data plane answered a redirect, 404,
          or 401/403 for a key pixelgate was told to use; nothing lost, fix it and run again
    """

    /// drain's and requeue's codes.
    static let drainExitCodes = """
    Exit codes:
      0   every event was delivered, or some refused by the data plane and kept in rejected/
      1   the spool could not be read or written (permissions, disk full); nothing lost
      2   usage: a wrong command or option
      65  the data plane refused every event of the pass: kept in rejected/; see the log
      75  the data plane stayed unavailable (network, 5xx, 429) for --max-seconds (60);
          nothing lost, run again
      78  configuration wrong: a setting, or the data plane answered a redirect, 404,
          or 401/403 for a key in PIXELGATE_WRITE_KEYS; nothing lost, fix it and run again
    """

    /// `text` broken at spaces into lines of at most `width` columns, each
    /// after `indent` spaces (the first line's indent included).
    static func wrap(_ text: String, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && indent + line.count + 1 + word.count > width {
                lines.append(pad + line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(pad + line) }
        return lines.map { $0 + "\n" }.joined()
    }

    /// `label` with `body` (already wrapped and indented) beside it when
    /// the label leaves room, else on the lines below.
    static func column(_ label: String, _ body: String) -> String {
        let indent = body.prefix { $0 == " " }.count
        if label.count + 1 < indent {
            return label + String(body.dropFirst(label.count))
        }
        return label + "\n" + body
    }
}
