import PixelCore

/// A mistake on the command line: the dispatcher prints `message` as
/// `pixelgate: …` with a pointer to the command's `--help`, and exits 2, so
/// every subcommand reports usage the same way.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// One option a subcommand accepts, as the parser and the help text see it:
/// a flag (`--once`) or an option with a value (`--listen X`, `--listen=X`).
/// The value is checked when it is read, so a command's `init` receives only
/// values it can use.
struct OptionSpec: Sendable {
    let name: String
    /// What the help text shows after the name (`ADDRESS`); nil for a flag.
    let valueName: String?
    let help: String
    /// The error when the option ends the line without its value.
    let missingValue: String
    /// Turns the text into the option's value, or says what is wrong with it.
    let check: @Sendable (String) -> Result<any Sendable, UsageError>

    var isFlag: Bool { valueName == nil }
}

/// An option with a value of type `Value`, declared once by its command and
/// used both to parse and to read the parsed value back.
struct Option<Value: Sendable>: Sendable {
    let spec: OptionSpec

    /// An option whose bad or missing value is reported as `NAME takes …`:
    /// `takes` is that sentence's end (`"a number from 1 to 256"`).
    init(_ name: String, _ valueName: String, takes: String, help: String, _ convert: @escaping @Sendable (String) -> Value?) {
        let problem = "\(name) takes \(takes)"
        spec = OptionSpec(name: name, valueName: valueName, help: help, missingValue: problem) { text in
            convert(text).map { .success($0) } ?? .failure(UsageError(problem))
        }
    }

    /// An option that words its own errors, for messages that quote the value.
    init(_ name: String, _ valueName: String, help: String, missingValue: String,
         check: @escaping @Sendable (String) -> Result<Value, UsageError>) {
        spec = OptionSpec(name: name, valueName: valueName, help: help, missingValue: missingValue) { text in
            check(text).map { $0 as any Sendable }
        }
    }
}

/// An option without a value: present or not.
struct Flag: Sendable {
    let spec: OptionSpec
    init(_ name: String, help: String) {
        spec = OptionSpec(name: name, valueName: nil, help: help, missingValue: "") { _ in .success(true) }
    }
}

/// What the parser found: checked option values by name, and the arguments
/// that are not options, in order.
struct ParsedArguments {
    fileprivate var values: [String: any Sendable] = [:]
    fileprivate(set) var positionals: [String] = []

    subscript<Value>(_ option: Option<Value>) -> Value? { values[option.spec.name] as? Value }
    subscript(_ flag: Flag) -> Bool { values[flag.spec.name] != nil }
}

/// The one command-line parser every subcommand uses, so that `--name V`,
/// `--name=V`, `--help` and the wording of mistakes are the same everywhere.
enum OptionParser {
    enum Outcome {
        /// `--help` or `-h` came before any mistake.
        case help
        case parsed(ParsedArguments)
    }

    /// Reads `arguments` (those after the command's name) against `options`.
    /// An option's value is the next argument whatever it looks like, as
    /// `--max-seconds -1` must reach its check; a repeated option keeps its
    /// last value; after `--` everything is an argument.
    static func parse(_ arguments: [String], options: [OptionSpec], command: String) throws(UsageError) -> Outcome {
        var parsed = ParsedArguments()
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if argument == "--" {
                parsed.positionals += arguments[i...]
                break
            }
            if argument == "--help" || argument == "-h" { return .help }
            guard argument.hasPrefix("-"), argument != "-" else {
                parsed.positionals.append(argument)
                continue
            }
            var name = argument
            var inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            guard let spec = options.first(where: { $0.name == name }) else {
                var problem = "unknown \(command) option '\(name)'"
                if let meant = Spelling.closest(to: name, among: options.map(\.name)) { problem += "; did you mean '\(meant)'?" }
                throw UsageError(problem)
            }
            if spec.isFlag {
                guard inline == nil else { throw UsageError("\(name) takes no value") }
                parsed.values[name] = true
                continue
            }
            let text: String
            if let inline {
                text = inline
            } else {
                guard i < arguments.count else { throw UsageError(spec.missingValue) }
                text = arguments[i]
                i += 1
            }
            switch spec.check(text) {
            case .success(let value): parsed.values[name] = value
            case .failure(let error): throw error
            }
        }
        return .parsed(parsed)
    }
}
