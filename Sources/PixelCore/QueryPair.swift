/// One decoded `name=value` pair of a query string.
public struct QueryPair: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
