/// A setting that could not be used, named for the log and `pixelgate check`.
public struct ConfigurationProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var setting: String
    public var message: String
    /// Fatal problems make every hit answer 500; others are only warnings.
    public var isFatal: Bool

    public init(setting: String, message: String, isFatal: Bool) {
        self.setting = setting
        self.message = message
        self.isFatal = isFatal
    }

    public var description: String { "\(setting): \(message)" }
}
