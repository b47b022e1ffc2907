/// Setting names and their texts, in the order first set (a later set
/// replaces the text in place), found by a scan: the `PIXELGATE_*`
/// variables of the environment, and where each effective setting came
/// from.
///
/// A handful of names, read once a start: a `[String: String]` cost every
/// CGI hit about 50,000 instructions (its storage's generic metadata, made
/// at first use, then hashing and growing), where two arrays of `String`
/// reuse metadata the start has already made.
public struct SettingValues: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var names: [String] = []
    public private(set) var values: [String] = []

    public init() {}

    /// Names and texts in order; a name given twice keeps its last text.
    public init(names: [String], values: [String]) {
        precondition(names.count == values.count, "a text for every name")
        for i in names.indices { self[names[i]] = values[i] }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { self[name] = value }
    }

    public var count: Int { names.count }
    public var isEmpty: Bool { names.isEmpty }

    /// The position of `name`, if it is set.
    func position(of name: String) -> Int? {
        var i = 0
        while i < names.count {
            if names[i] == name { return i }
            i += 1
        }
        return nil
    }

    public subscript(name: String) -> String? {
        get { position(of: name).map { values[$0] } }
        set {
            if let i = position(of: name) {
                if let newValue {
                    values[i] = newValue
                } else {
                    names.remove(at: i)
                    values.remove(at: i)
                }
            } else if let newValue {
                names.append(name)
                values.append(newValue)
            }
        }
    }
}
