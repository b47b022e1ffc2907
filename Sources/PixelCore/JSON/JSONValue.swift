/// A JSON value whose objects keep their members in insertion order.
///
/// Events are built from query pairs applied in order; keeping that order
/// makes the output a function of the query alone and easy to read.
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
