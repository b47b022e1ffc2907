/// A JSON object with members in insertion order.
///
/// Lookup is linear: records hold a handful of members, and the tests'
/// reference model at most `PixelLimits.maxPairs`, where a scan is enough.
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
    }

    public internal(set) var members: [Member] = []

    public init() {}

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        for (k, v) in pairs { self[k] = v }
    }

    func index(of key: String) -> Int? {
        members.firstIndex { $0.key == key }
    }

    public subscript(key: String) -> JSONValue? {
        get { index(of: key).map { members[$0].value } }
        set {
            if let i = index(of: key) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }
}
