/// Applies decoded pairs to an `EventTree` and adds what the server sets
/// (SPEC §3, §4), then writes the spool line once.
struct EventBuilder {
    var tree: EventTree
    let pairs: [PairSpans]
    let limits: PixelLimits
    /// The segments of the name in hand; reused from pair to pair.
    var segments: [EventTree.Segment] = []

    init(decoder: QueryDecoder, limits: PixelLimits) {
        tree = EventTree(bytes: decoder.bytes, expectedNodes: 2 * decoder.pairs.count + 24)
        pairs = decoder.pairs
        self.limits = limits
        segments.reserveCapacity(min(limits.maxDepth, 16))
    }

    /// The page properties the seed asks for in `properties` or `context.page`.
    static let mirroredPageFields: [Word] = [.path, .url, .referrer, .title]

    mutating func build(type: EventType, facts: HitFacts, allowedWriteKeys: Set<String>) throws(PixelError) -> PixelEvent {
        tree.setString(tree.place(words: Word.path(.type)), type == .page ? Word.page.span : Word.track.span)
        var writeKey: ByteSpan?
        var seen = NameSet(capacity: pairs.count)
        for pair in pairs {
            // A repeated name: the first value counts, as in RudderStack.
            guard seen.insert(pair.name, bytes: tree.bytes) else { continue }
            try split(pair.name)
            let first = segments[0].span
            if tree.equal(first, Word.writeKey.span) {
                if segments.count == 1 { writeKey = pair.value }
                continue
            }
            if tree.equal(first, Word.type.span) || tree.equal(first, Word.receivedAt.span) || tree.equal(first, Word.requestIP.span) {
                continue  // Set by the server, whatever the query says.
            }
            do {
                tree.setString(try tree.place(segments, maxIndex: limits.maxArrayIndex), pair.value)
            } catch {
                throw .arrayIndexOverLimit(parameter: quotable(tree.bytes[pair.name.range]),
                                           index: quotable(tree.bytes[error.segment.span.range], limit: 24),
                                           limit: limits.maxArrayIndex)
            }
        }

        guard let writeKey, writeKey.count > 0 else { throw .missingWriteKey }
        let writeKeyText = String(decoding: tree.bytes[writeKey.range], as: UTF8.self)
        if !allowedWriteKeys.isEmpty && !allowedWriteKeys.contains(writeKeyText) { throw .invalidWriteKey }

        guard let anonymousNode = tree.member(EventTree.root, Word.anonymousId.span),
              var anonymousId = tree.string(at: anonymousNode) else { throw .missingAnonymousId }
        // `"abc"` → `abc`: some templates quote ids.
        if anonymousId.count >= 2, tree.bytes[Int(anonymousId.start)] == UInt8(ascii: "\""),
           tree.bytes[Int(anonymousId.start + anonymousId.count - 1)] == UInt8(ascii: "\"") {
            anonymousId = ByteSpan(start: Int(anonymousId.start) + 1, count: Int(anonymousId.count) - 2)
            tree.setString(anonymousNode, anonymousId)
        }
        if anonymousId.count == 0 { throw .missingAnonymousId }

        switch type {
        case .track:
            guard let node = tree.member(EventTree.root, Word.event.span), let name = tree.string(at: node), name.count > 0 else {
                throw .missingEvent
            }
        case .page:
            if let node = tree.member(EventTree.root, Word.name.span), tree.string(at: node)?.count == 0 {
                tree.setString(node, Word.unknownPage.span)
            }
            mirrorPageFields()
        }

        let now = appendText { ISO8601.write(millis: facts.receivedAtMillis, into: &$0) }
        let ip = appendText { $0.append(contentsOf: facts.clientIP.utf8) }
        setIfAbsent(Word.path(.channel), string: Word.web.span)
        if let userAgent = facts.userAgent {
            let span = appendText { $0.append(contentsOf: userAgent.utf8) }
            setIfAbsent(Word.path(.context, .userAgent), string: span)
        }
        if ip.count > 0 { setIfAbsent(Word.path(.context, .ip), string: ip) }
        let integrations = Word.path(.integrations)
        if tree.lookup(integrations.map(\.span)) == nil {
            let node = tree.place(words: integrations)
            tree.reset(node, to: .object)
            tree.append(tree.newNode(.trueValue, key: Word.all.span), to: node)
        }
        setIfAbsent(Word.path(.messageId), string: appendText { $0.append(contentsOf: facts.messageId.utf8) })
        setIfAbsent(Word.path(.originalTimestamp), string: now)
        setIfAbsent(Word.path(.sentAt), string: now)
        tree.setString(tree.place(words: Word.path(.receivedAt)), now)
        tree.setString(tree.place(words: Word.path(.requestIP)), ip)
        return line(writeKey: writeKey, writeKeyText: writeKeyText)
    }

    /// `{"writeKey":…,"event":{…}}` and a newline, written once into a
    /// buffer sized by `encodedBound`.
    func line(writeKey: ByteSpan, writeKeyText: String) -> PixelEvent {
        let bound = PixelEvent.recordPrefix.count + 2 + 6 * Int(writeKey.count) + PixelEvent.recordMiddle.count
            + tree.encodedBound(EventTree.root) + 2
        var eventRange = 0..<0
        let line = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            var out = RawWriter(buffer.baseAddress!)
            out.append(PixelEvent.recordPrefix)
            tree.bytes.withUnsafeBufferPointer { out.jsonString($0.baseAddress! + Int(writeKey.start), Int(writeKey.count)) }
            out.append(PixelEvent.recordMiddle)
            let start = out.count
            tree.encode(EventTree.root, into: &out)
            eventRange = start..<out.count
            out.append("}\n")
            initialized = out.count
        }
        return PixelEvent(writeKey: writeKeyText, recordLine: line, eventRange: eventRange)
    }

    /// Splits a name into `segments` on `.`; `\.` is a literal dot and any
    /// other backslash stands for itself. An empty segment (`a..b`, `.a`,
    /// `a.`, or an empty name) or more than `limits.maxDepth` segments throws.
    mutating func split(_ name: ByteSpan) throws(PixelError) {
        segments.removeAll(keepingCapacity: true)
        let start = Int(name.start), end = start + Int(name.count)
        var hasEscape = false
        var sawEmpty = false
        var tooDeep = false
        tree.bytes.withUnsafeBufferPointer { bytes in
            var segmentStart = start
            for i in start..<end {
                if bytes[i] == UInt8(ascii: "\\") { hasEscape = true; return }
                guard bytes[i] == UInt8(ascii: ".") else { continue }
                if i == segmentStart { sawEmpty = true; return }
                segments.append(EventBuilder.segment(bytes, segmentStart, i))
                if segments.count >= limits.maxDepth { tooDeep = true; return }
                segmentStart = i + 1
            }
            if segmentStart == end { sawEmpty = true; return }
            segments.append(EventBuilder.segment(bytes, segmentStart, end))
        }
        if hasEscape { return try splitEscaped(name) }
        if sawEmpty { throw .emptySegment(parameter: quotable(tree.bytes[name.range])) }
        if tooDeep { throw .tooDeep(parameter: quotable(tree.bytes[name.range]), limit: limits.maxDepth) }
    }

    /// `split` for names with a backslash: segments are unescaped into new
    /// bytes at the end of the buffer. Rare, so plain.
    mutating func splitEscaped(_ name: ByteSpan) throws(PixelError) {
        segments.removeAll(keepingCapacity: true)
        let raw = Array(tree.bytes[name.range])
        var current: [UInt8] = []
        func finish() {
            let start = tree.bytes.count
            tree.bytes.append(contentsOf: current)
            let segment = tree.bytes.withUnsafeBufferPointer { EventBuilder.segment($0, start, start + current.count) }
            segments.append(segment)
            current.removeAll(keepingCapacity: true)
        }
        var i = 0
        while i < raw.count {
            let b = raw[i]
            if b == UInt8(ascii: "\\"), i + 1 < raw.count, raw[i + 1] == UInt8(ascii: ".") {
                current.append(UInt8(ascii: "."))
                i += 2
                continue
            }
            if b == UInt8(ascii: ".") {
                if current.isEmpty { throw .emptySegment(parameter: quotable(raw)) }
                finish()
                if segments.count >= limits.maxDepth { throw .tooDeep(parameter: quotable(raw), limit: limits.maxDepth) }
            } else {
                current.append(b)
            }
            i += 1
        }
        if current.isEmpty { throw .emptySegment(parameter: quotable(raw)) }
        finish()
    }

    /// A segment, with its value when it is digits only.
    static func segment(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> EventTree.Segment {
        var value = 0
        for i in start..<end {
            let b = bytes[i]
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else {
                return EventTree.Segment(span: ByteSpan(start: start, count: end - start), index: EventTree.Segment.notIndex)
            }
            value = value <= (Int.max - 9) / 10 ? value * 10 + Int(b - UInt8(ascii: "0")) : Int.max
        }
        return EventTree.Segment(span: ByteSpan(start: start, count: end - start), index: value)
    }

    /// Appends bytes for a server value to the buffer and returns their span.
    mutating func appendText(_ write: (inout [UInt8]) -> Void) -> ByteSpan {
        let start = tree.bytes.count
        write(&tree.bytes)
        return ByteSpan(start: start, count: tree.bytes.count - start)
    }

    /// Sets `path` to a string unless a value already stands there.
    mutating func setIfAbsent(_ path: [EventTree.Segment], string: ByteSpan) {
        guard tree.lookup(path.map(\.span)) == nil else { return }
        tree.setString(tree.place(words: path), string)
    }

    /// Copies each of path/url/referrer/title between `properties` and
    /// `context.page` where it stands in one and not the other.
    mutating func mirrorPageFields() {
        let properties = tree.lookup([Word.properties.span]).flatMap { tree.nodes[Int($0)].kind == .object ? $0 : nil }
        let page = tree.lookup([Word.context.span, Word.page.span]).flatMap { tree.nodes[Int($0)].kind == .object ? $0 : nil }
        guard properties != nil || page != nil else { return }
        for field in EventBuilder.mirroredPageFields {
            let inProperties = properties.flatMap { tree.member($0, field.span) }
            let inPage = page.flatMap { tree.member($0, field.span) }
            if inProperties == nil, let inPage {
                copyIfAbsent(inPage, to: Word.path(.properties, field))
            } else if inPage == nil, let inProperties {
                copyIfAbsent(inProperties, to: Word.path(.context, .page, field))
            }
        }
    }

    mutating func copyIfAbsent(_ source: Int32, to path: [EventTree.Segment]) {
        guard tree.lookup(path.map(\.span)) == nil else { return }
        tree.copy(source, into: tree.place(words: path))
    }
}

/// The set of names seen so far, by their bytes: open addressing over pair
/// spans, sized once for the query's pairs.
struct NameSet {
    var slots: [ByteSpan?]
    let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        slots = Array(repeating: nil, count: size)
        mask = size - 1
    }

    /// Adds `name`; false when an equal name was already there.
    mutating func insert(_ name: ByteSpan, bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { text in
            // FNV-1a.
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in UnsafeBufferPointer(rebasing: text[name.range]) { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while let other = slots[slot] {
                if other.count == name.count && text[other.range].elementsEqual(text[name.range]) { return false }
                slot = (slot + 1) & mask
            }
            slots[slot] = name
            return true
        }
    }
}
