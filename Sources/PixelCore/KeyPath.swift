/// One segment of a dotted parameter name.
public struct PathSegment: Sendable, Equatable {
    /// The segment as an object key.
    public var key: String
    /// The segment as an array index, when it is digits only. Digit strings
    /// too long for an `Int` get `Int.max`, which no limit admits.
    public var index: Int?

    public init(_ key: String) {
        self.key = key
        self.index = PathSegment.digitsValue(key)
    }

    init(key: String, index: Int?) {
        self.key = key
        self.index = index
    }

    static func digitsValue(_ key: String) -> Int? {
        var value = 0
        var count = 0
        for b in key.utf8 {
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
            count += 1
            if value <= (Int.max - 9) / 10 { value = value * 10 + Int(b - UInt8(ascii: "0")) } else { value = Int.max }
        }
        return count > 0 ? value : nil
    }
}

/// A parameter name split into segments: `context.page.url` → three.
public struct KeyPath: Sendable, Equatable {
    public var segments: [PathSegment]

    /// Splits `name` on `.`; `\.` is a literal dot and any other backslash
    /// stands for itself. An empty segment (`a..b`, `.a`, `a.`, or an empty
    /// name) or more than `limits.maxDepth` segments throws.
    public init(_ name: String, limits: PixelLimits = .default) throws(PixelError) {
        var segments: [PathSegment] = []
        var current: [UInt8] = []
        var sawEscape = false
        var iterator = name.utf8.makeIterator()
        var pending = iterator.next()
        while let b = pending {
            pending = iterator.next()
            if b == UInt8(ascii: "\\"), pending == UInt8(ascii: ".") {
                current.append(UInt8(ascii: "."))
                pending = iterator.next()
                sawEscape = true
            } else if b == UInt8(ascii: ".") {
                if current.isEmpty { throw .emptySegment(parameter: quotable(name.utf8)) }
                segments.append(PathSegment(String(decoding: current, as: UTF8.self)))
                if segments.count >= limits.maxDepth { throw .tooDeep(parameter: quotable(name.utf8), limit: limits.maxDepth) }
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(b)
            }
        }
        if current.isEmpty { throw .emptySegment(parameter: quotable(name.utf8)) }
        if !sawEscape && segments.isEmpty {
            segments.append(PathSegment(name))
        } else {
            segments.append(PathSegment(String(decoding: current, as: UTF8.self)))
        }
        self.segments = segments
    }

    /// A path of object keys only, for fields the server sets.
    init(words: [String]) {
        segments = words.map { PathSegment(key: $0, index: nil) }
    }

    public var first: String { segments[0].key }
}

extension JSONObject {
    /// Sets the value at `path`, creating containers on the way.
    ///
    /// A digit segment under a missing (or replaced) parent makes that parent
    /// an array padded with `null`; under an existing object it is a key.
    /// Where the path needs a container and a string (or a container of the
    /// other kind) stands, the later pair wins and replaces it.
    mutating func set(_ path: KeyPath, to value: JSONValue, parameter: String, limits: PixelLimits) throws(PixelError) {
        let segs = path.segments[...]
        let head = segs.first!
        let i: Int
        if let found = index(of: head.key) {
            i = found
        } else {
            members.append(Member(key: head.key, value: .null))
            i = members.count - 1
        }
        try JSONValue.assign(&members[i].value, segs.dropFirst(), value, parameter: parameter, limits: limits)
    }
}

extension JSONValue {
    static func assign(_ node: inout JSONValue, _ segs: ArraySlice<PathSegment>, _ value: JSONValue, parameter: String, limits: PixelLimits) throws(PixelError) {
        guard let seg = segs.first else {
            node = value
            return
        }
        let rest = segs.dropFirst()
        switch node {
        case .object(var object):
            // Release the enum's reference first so the object mutates in place.
            node = .null
            let i: Int
            if let found = object.index(of: seg.key) {
                i = found
            } else {
                object.members.append(JSONObject.Member(key: seg.key, value: .null))
                i = object.members.count - 1
            }
            defer { node = .object(object) }
            try assign(&object.members[i].value, rest, value, parameter: parameter, limits: limits)
        case .array(var items) where seg.index != nil:
            let index = try checkedIndex(seg, parameter: parameter, limits: limits)
            node = .null
            if items.count <= index { items.append(contentsOf: repeatElement(.null, count: index + 1 - items.count)) }
            defer { node = .array(items) }
            try assign(&items[index], rest, value, parameter: parameter, limits: limits)
        default:
            if seg.index != nil {
                let index = try checkedIndex(seg, parameter: parameter, limits: limits)
                var items = [JSONValue](repeating: .null, count: index + 1)
                try assign(&items[index], rest, value, parameter: parameter, limits: limits)
                node = .array(items)
            } else {
                var object = JSONObject()
                object.members.append(JSONObject.Member(key: seg.key, value: .null))
                try assign(&object.members[0].value, rest, value, parameter: parameter, limits: limits)
                node = .object(object)
            }
        }
    }

    static func checkedIndex(_ seg: PathSegment, parameter: String, limits: PixelLimits) throws(PixelError) -> Int {
        let index = seg.index!
        if index > limits.maxArrayIndex {
            throw .arrayIndexOverLimit(parameter: quotable(parameter.utf8), index: quotable(seg.key.utf8, limit: 24), limit: limits.maxArrayIndex)
        }
        return index
    }
}
