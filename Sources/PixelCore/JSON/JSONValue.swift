/// A JSON value whose objects keep their members in insertion order.
///
/// For the records written beside events (a refused hit, the note on an
/// event the data plane refused) and the tests' reference model; events
/// themselves are built as an `EventTree`. Keeping the order makes each
/// record's bytes a function of its fields alone, and easy to read.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The object, when this value is one.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }
}
