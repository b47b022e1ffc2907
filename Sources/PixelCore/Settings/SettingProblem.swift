/// Why a setting's text cannot be used, for parsers that live beside the
/// type they read (`HitClassPolicy`); the table turns it into the fatal
/// problem that names the setting.
public struct SettingProblem: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
