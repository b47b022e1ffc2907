/// One setting pixelgate reads, everything about it in one place: its name,
/// how its text is read into a `PixelConfiguration`, how its value in effect
/// is shown, and how docs/configuration.md documents it. `SettingsTable` lists them all, and
/// everything that once kept its own list of settings (the resolver, the
/// unknown-name warning, `pixelgate check`, docs/configuration.md's table) reads that one,
/// so no setting can be read but not shown, or shown but not documented.
public struct Setting: Sendable {
    /// Reads a value into a configuration; nil when it was taken, otherwise
    /// the message of the fatal problem that names it.
    public typealias Parser = @Sendable (_ value: String, _ config: inout PixelConfiguration) -> String?
    /// The value in effect, as `pixelgate check` prints it.
    public typealias Printer = @Sendable (_ config: PixelConfiguration) -> String

    /// The environment and config-file name, e.g. `PIXELGATE_SINK`. Fixed:
    /// tools and tests outside the project use these names (SPEC §8).
    public let name: String
    /// What the setting does, one line of Markdown: the table's "meaning".
    public let meaning: String
    /// The value in effect when it is not set, as people are told it, in
    /// Markdown: the table's "default". A single code span (`` `64k` ``) is a
    /// value the parser takes, and gives what an unset setting gives (the
    /// tests check it); prose (`none`) describes an empty or absent value.
    public let defaultText: String
    let parser: Parser
    let printer: Printer

    public init(name: String, meaning: String, defaultText: String, parser: @escaping Parser, printer: @escaping Printer) {
        self.name = name
        self.meaning = meaning
        self.defaultText = defaultText
        self.parser = parser
        self.printer = printer
    }

    /// Applies `value` to `config`, or returns why it cannot be used (then
    /// `config` may be left as it was, or partly changed).
    public func apply(_ value: String, to config: inout PixelConfiguration) -> String? {
        parser(value, &config)
    }

    /// The value `config` has, as `pixelgate check` prints it: secrets are
    /// never shown (a count of keys, a URL's credentials masked).
    public func effectiveValue(in config: PixelConfiguration) -> String {
        printer(config)
    }

    /// This setting as a row of docs/configuration.md's `| variable | meaning | default |`.
    public var markdownRow: String {
        "| `\(name)` | \(meaning) | \(defaultText) |"
    }
}
