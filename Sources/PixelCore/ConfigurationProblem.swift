/// A setting that could not be used, named for the log and `pixelgate check`.
public struct ConfigurationProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var setting: String
    public var message: String
    /// Fatal problems make every hit answer 500; others are only warnings.
    public var isFatal: Bool
    /// A warning hits go on under, that `pixelgate check` still fails with
    /// (exit 78) and every CGI hit logs: the operator must fix it, and the
    /// site must not stop meanwhile (a settings file others can read).
    public var failsCheck: Bool

    public init(setting: String, message: String, isFatal: Bool, failsCheck: Bool = false) {
        self.setting = setting
        self.message = message
        self.isFatal = isFatal
        self.failsCheck = isFatal || failsCheck
    }

    public var description: String { "\(setting): \(message)" }
}
