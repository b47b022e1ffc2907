@testable import PixelCore

// The first implementation of SPEC §3–§4, kept as a reference model: simple
// `String` and `JSONValue` code that is easy to check by eye. The shipped
// builder (`PixelEvent.build`, a flat tree over the decoded bytes) must
// produce the same JSON and the same errors; `ReferenceModelTests` compares
// them on the fixed cases and on generated queries.

/// The reference mapper.
enum ReferenceModel {
    /// The page properties the seed asks for in `properties` or `context.page`.
    static let mirroredPageFields = ["path", "url", "referrer", "title"]

    /// Builds the event for `type` from decoded pairs, checking in the order
    /// of SPEC §4: names, then `writeKey` (present, then allowed), then
    /// `anonymousId`, then `event` for track.
    ///
    /// - Parameter allowedWriteKeys: empty accepts any write key.
    public static func build(
        type: EventType,
        pairs: [QueryPair],
        facts: HitFacts,
        limits: PixelLimits = .default,
        allowedWriteKeys: Set<String> = []
    ) throws(PixelError) -> (writeKey: String, event: JSONObject) {
        var event = JSONObject()
        event.members.reserveCapacity(16)
        event["type"] = .string(type.rawValue)
        var writeKey: String?
        var seen = Set<String>(minimumCapacity: pairs.count)
        for pair in pairs {
            // A repeated name: the first value counts, as in RudderStack,
            // except under `properties.`, where the values make an array.
            let isRepeat = !seen.insert(pair.name).inserted
            if isRepeat && !pair.name.hasPrefix("properties.") { continue }
            let path = try KeyPath(pair.name, limits: limits)
            switch path.first {
            case "writeKey":
                if path.segments.count == 1 { writeKey = pair.value }
                continue
            case "type", "receivedAt", "request_ip":
                continue  // Set by the server, whatever the query says.
            case "messageId" where path.segments.count > 1:
                throw .messageIdNotString(parameter: quotable(pair.name.utf8))
            case "integrations":
                guard path.segments.count == 2, path.segments[1].index == nil, pair.value == "true" || pair.value == "false" else {
                    throw .invalidIntegration(parameter: quotable(pair.name.utf8))
                }
                try event.set(path, to: .bool(pair.value == "true"), parameter: pair.name, limits: limits)
            default:
                var value = JSONValue.string(pair.value)
                if isRepeat {
                    switch event.value(at: path) {
                    case .string(let earlier)?:
                        guard limits.maxArrayIndex >= 1 else {
                            throw .arrayIndexOverLimit(parameter: quotable(pair.name.utf8), index: "1", limit: limits.maxArrayIndex)
                        }
                        value = .array([.string(earlier), value])
                    case .array(let items)? where items.allSatisfy({ if case .string = $0 { true } else { false } }):
                        guard items.count <= limits.maxArrayIndex else {
                            throw .arrayIndexOverLimit(parameter: quotable(pair.name.utf8), index: String(items.count), limit: limits.maxArrayIndex)
                        }
                        value = .array(items + [value])
                    default: break
                    }
                }
                try event.set(path, to: value, parameter: pair.name, limits: limits)
            }
        }

        guard let writeKey, !writeKey.isEmpty else { throw .missingWriteKey }
        if !allowedWriteKeys.isEmpty && !allowedWriteKeys.contains(writeKey) { throw .invalidWriteKey }

        guard case .string(let rawAnonymousId)? = event["anonymousId"] else { throw .missingAnonymousId }
        let anonymousId = stripOneQuotePair(rawAnonymousId)
        if Identity.isBlank(anonymousId) { throw .missingAnonymousId }
        if anonymousId != rawAnonymousId { event["anonymousId"] = .string(anonymousId) }

        switch type {
        case .track:
            guard case .string(let name)? = event["event"], !name.isEmpty else { throw .missingEvent }
        case .page:
            if case .string("")? = event["name"] { event["name"] = .string("Unknown Page") }
            mirrorPageFields(&event, limits: limits)
        }

        let now = ISO8601.format(millis: facts.receivedAtMillis)
        setIfAbsent(&event, ["channel"], .string("web"), limits: limits)
        if let ua = facts.userAgent { setIfAbsent(&event, ["context", "userAgent"], .string(ua), limits: limits) }
        if !facts.clientIP.isEmpty { setIfAbsent(&event, ["context", "ip"], .string(facts.clientIP), limits: limits) }
        setIfAbsent(&event, ["integrations"], .object(JSONObject(["All": .bool(true)])), limits: limits)
        if case .object(var integrations)? = event["integrations"], integrations["All"] == nil {
            integrations["All"] = .bool(true)
            event["integrations"] = .object(integrations)
        }
        if case .string(let id)? = event["messageId"], Identity.isBlank(id) { event["messageId"] = .string(facts.messageId) }
        setIfAbsent(&event, ["messageId"], .string(facts.messageId), limits: limits)
        if !{ if case .string(var given)? = event["timestamp"] { given.withUTF8 { ClientTime.parseMillis($0) } != nil } else { false } }() {
            func clientTime(_ name: String) -> Int64? {
                guard case .string(var text)? = event[name] else { return nil }
                return text.withUTF8 { ClientTime.parseMillis($0) }
            }
            let skew = (clientTime("sentAt") ?? facts.receivedAtMillis) - (clientTime("originalTimestamp") ?? facts.receivedAtMillis)
            event["timestamp"] = .string(ISO8601.format(millis: facts.receivedAtMillis - skew))
        }
        setIfAbsent(&event, ["originalTimestamp"], .string(now), limits: limits)
        setIfAbsent(&event, ["sentAt"], .string(now), limits: limits)
        event["receivedAt"] = .string(now)
        event["request_ip"] = .string(facts.clientIP)
        if JSONValue.object(event).jsonString.utf8.count > limits.maxEventBytes { throw .eventTooLarge(limit: limits.maxEventBytes) }
        return (writeKey, event)
    }

    /// `"abc"` → `abc`; anything else unchanged. Some templates quote ids.
    static func stripOneQuotePair(_ s: String) -> String {
        let u = s.utf8
        guard u.count >= 2, u.first == UInt8(ascii: "\""), u.last == UInt8(ascii: "\"") else { return s }
        return String(s.dropFirst().dropLast())
    }

    /// Copies each of path/url/referrer/title between `properties` and
    /// `context.page` where it stands in one and not the other.
    static func mirrorPageFields(_ event: inout JSONObject, limits: PixelLimits) {
        let properties = event["properties"]?.objectValue
        let page = event["context"]?.objectValue?["page"]?.objectValue
        guard properties != nil || page != nil else { return }
        for field in mirroredPageFields {
            let inProperties = properties?[field]
            let inPage = page?[field]
            if inProperties == nil, let inPage {
                setIfAbsent(&event, ["properties", field], inPage, limits: limits)
            } else if inPage == nil, let inProperties {
                setIfAbsent(&event, ["context", "page", field], inProperties, limits: limits)
            }
        }
    }

    /// Sets `keys` to `value` unless a value already stands there.
    static func setIfAbsent(_ event: inout JSONObject, _ keys: [String], _ value: JSONValue, limits: PixelLimits) {
        var node: JSONValue? = .object(event)
        for key in keys {
            node = node?.objectValue?[key]
            if node == nil { break }
        }
        if node != nil { return }
        // Server keys are words, never indexes, so set() cannot throw here.
        try? event.set(KeyPath(words: keys), to: value, parameter: keys.joined(separator: "."), limits: limits)
    }
}

/// One segment of a dotted parameter name.
struct PathSegment: Sendable, Equatable {
    /// The segment as an object key.
    var key: String
    /// The segment as an array index, when it is digits only. Digit strings
    /// too long for an `Int` get `Int.max`, which no limit admits.
    var index: Int?

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
struct KeyPath: Sendable, Equatable {
    var segments: [PathSegment]

    /// Splits `name` on `.`; `\.` is a literal dot and any other backslash
    /// stands for itself. An empty segment (`a..b`, `.a`, `a.`, or an empty
    /// name) or more than `limits.maxDepth` segments throws.
    init(_ name: String, limits: PixelLimits = .default) throws(PixelError) {
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

    var first: String { segments[0].key }
}

extension JSONObject {
    /// The value at `path` where every step finds its container (an object
    /// member, or an array element for a digit segment), else nil.
    func value(at path: KeyPath) -> JSONValue? {
        var node: JSONValue = .object(self)
        for segment in path.segments {
            switch node {
            case .object(let object):
                guard let found = object[segment.key] else { return nil }
                node = found
            case .array(let items):
                guard let index = segment.index, index < items.count else { return nil }
                node = items[index]
            default:
                return nil
            }
        }
        return node
    }

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
