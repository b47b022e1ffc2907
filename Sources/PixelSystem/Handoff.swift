/// Hands a value made on one thread to the thread that alone uses it from
/// then on (a responder is used by one thread at a time).
public struct Handoff<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
