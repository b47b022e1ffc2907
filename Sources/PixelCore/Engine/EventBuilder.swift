/// The engine's worker (see `EventEngine` for the whole path): decodes the
/// query into the tree's text, applies the pairs to an `EventTree` and
/// takes the write key out (`apply`), checks the event's identity
/// (`checkIdentity`), and adds what the server sets and writes the spool
/// line once (`finish`), SPEC §3 and §4. It never decides about write
/// keys or signatures: that is the caller's, between `apply` and the rest.
struct EventBuilder {
    let workspace: EventWorkspace
    var tree: EventTree
    var pairs: [PairSpans]
    let limits: PixelLimits
    /// The segments of the name in hand; reused from pair to pair.
    var segments: UnsafeMutablePointer<EventTree.Segment>
    var segmentCount = 0
    /// A click link's target: the top-level `url` (SPEC's click route).
    var clickTarget: ByteSpan?
    /// Names left out because they look like secrets, as sent, once each,
    /// and how many pairs were left out (a repeated name counts each time).
    var scrubbedNames: [String] = []
    var scrubbedPairs = 0
    /// From the hit's facts, read while applying pairs.
    let secretNames: SecretNames
    let keepsClientData: Bool
    /// The query's own `context.ip`, set aside while applying: only a
    /// signed URL may choose the address downstream trusts (SPEC §3), and
    /// whether this one is signed is known only after `apply`.
    var queryAddress: ByteSpan?
    /// The query named `context.ip` (or a name under it).
    var queryNamedAddress = false

    /// Takes `workspace`'s memory for one build; `giveBack()` returns it.
    /// The text is sized for everything a build appends: the query, decoded
    /// after the server's words, unescaped name segments (at most
    /// the query again), the campaign's names and values (decoded from a
    /// URL in the query: at most the query once more), a derived
    /// `anonymousId` and its placeholder, and the server's values (two
    /// times among them).
    init(workspace: EventWorkspace, query: UnsafeBufferPointer<UInt8>, facts: HitFacts, limits: PixelLimits) {
        let capacity = Word.bytes.count + 3 * query.count + 2 * 36 + (facts.userAgent?.utf8.count ?? 0)
            + facts.clientIP.utf8.count + facts.messageId.utf8.count + 2 * 24 + EventBuilder.serverMarkRoom
            + (facts.traffic.map { $0.hitClass.rawValue.utf8.count + ($0.rule?.utf8.count ?? 0) + ($0.ruleURL?.utf8.count ?? 0) } ?? 0)
        workspace.reserve(text: capacity, segments: max(limits.maxDepth, 1))
        self.workspace = workspace
        tree = EventTree(workspace: workspace, textCapacity: capacity)
        self.limits = limits
        secretNames = facts.secretNames
        keepsClientData = facts.keepsClientData
        segments = workspace.segments
        pairs = workspace.pairs
        workspace.pairs = []
        pairs.removeAll(keepingCapacity: true)
        Word.bytes.withUnsafeBufferPointer { _ = tree.appendText($0) }
    }

    /// Room for a shortened `context.ip` from the query (an IPv6 address
    /// is at most 45 bytes), with some to spare; the traffic mark's class
    /// and rule are counted by their lengths.
    static let serverMarkRoom = 64

    /// Non-mutating, so that a draft's `deinit` can call it; the pair list
    /// is emptied by the next build's `init`, when it is no longer shared.
    func giveBack() {
        tree.giveBack(to: workspace)
        workspace.pairs = pairs
    }

    /// Decodes the query into the text, after the server's words. The
    /// decoder's 8-byte stores run at most 8 bytes past the query's length,
    /// inside the room sized for the unescaped segments and the slack.
    mutating func decode(_ query: UnsafeBufferPointer<UInt8>) throws(PixelError) {
        precondition(tree.textCount + query.count + 8 <= tree.textCapacity + EventTree.slack, "event text buffer sized too small")
        pairs.reserveCapacity(16)
        tree.textCount = try QueryDecoder.decode(query, into: tree.text, at: tree.textCount, limits: limits, pairs: &pairs)
    }

    /// The page properties the seed asks for in `properties` or `context.page`.
    static let mirroredPageFields = (Word.path, Word.url, Word.referrer, Word.title)

    /// Applies the decoded pairs in query order and returns the span of
    /// the write key, which is not event data (SPEC §3). Throws what a name
    /// or value breaks (in query order), then `missingWriteKey`.
    mutating func apply(type: EventType, route: PixelRoute? = nil) throws(PixelError) -> ByteSpan {
        tree.setString(tree.place(words: ServerPath.type), type == .page ? Word.page.span : Word.track.span)
        var writeKey: ByteSpan?
        // The last name placed and the nodes it reached: names in a query
        // mostly share their first steps with the one before
        // (context.page.url, context.page.title), and those are not walked
        // again. Between two placings nothing else changes the tree, so a
        // step with the same bytes reaches the same node.
        var previous = segments + workspace.segmentCapacity
        var previousCount = 0
        let trail = workspace.trail
        var seen = NameSet(capacity: pairs.count, reusing: workspace)
        // Read once: a stored property read in the loop may retain it every time.
        let secretNames = self.secretNames, keepsClientData = self.keepsClientData
        for pair in pairs {
            // A repeated name: the first value counts, as in RudderStack,
            // except under `properties.`, where the values make an array.
            let isRepeat = !seen.insert(pair.name, tree: tree)
            if isRepeat && !isPropertiesName(pair.name) { continue }
            try split(pair.name)
            let first = segments[0].span
            if tree.equal(first, Word.writeKey.span) {
                if segmentCount == 1 { writeKey = pair.value }
                continue
            }
            if tree.equal(first, Word.type.span) || tree.equal(first, Word.receivedAt.span) || tree.equal(first, Word.requestIP.span) {
                continue  // Set by the server, whatever the query says.
            }
            if segmentCount >= 2 && tree.equal(first, Word.context.span) {
                let second = segments[1].span
                // The hit's class is the server's: `context.traffic` and
                // RudderStack's bot fields are marked or absent, never the query's.
                if tree.equal(second, Word.traffic.span) || tree.equal(second, Word.isBot.span) || tree.equal(second, Word.bot.span) {
                    continue
                }
                // Set aside: `finish` stores it only for a signed URL.
                if tree.equal(second, Word.ip.span) {
                    queryNamedAddress = true
                    if keepsClientData && segmentCount == 2 && queryAddress == nil { queryAddress = pair.value }
                    continue
                }
            }
            if route == .click && segmentCount == 1 && tree.equal(first, Word.url.span) {
                if clickTarget == nil { clickTarget = pair.value }
                continue  // The target goes to `properties.url`, at the end.
            }
            if !keepsClientData && segmentCount >= 2 && tree.equal(first, Word.context.span) && tree.equal(segments[1].span, Word.userAgent.span) {
                continue
            }
            // The identity a hit needs is never taken, whatever the list
            // says; names under it (`event.token`) are checked like any.
            if secretNames.matches(tree.textBytes(pair.name))
                && !(segmentCount == 1 && (tree.equal(first, Word.anonymousId.span) || tree.equal(first, Word.event.span))) {
                scrubbedPairs &+= 1
                if !isRepeat { scrubbedNames.append(String(decoding: tree.textBytes(pair.name), as: UTF8.self)) }
                continue
            }
            // The data plane reads `messageId` as a string and destinations
            // read `integrations.X` as a boolean: anything else is refused
            // here rather than spoiling the event downstream.
            if segmentCount > 1 && tree.equal(first, Word.messageId.span) {
                throw .messageIdNotString(parameter: quotable(tree.textBytes(pair.name)))
            }
            var flag: Bool?
            if tree.equal(first, Word.integrations.span) {
                guard segmentCount == 2, segments[1].index == EventTree.Segment.notIndex, let value = boolean(pair.value) else {
                    throw .invalidIntegration(parameter: quotable(tree.textBytes(pair.name)))
                }
                flag = value
            }
            var repeatOverLimit: Int?
            do {
                let path = UnsafeBufferPointer(start: segments, count: segmentCount)
                var common = 0
                let shared = min(segmentCount, previousCount)
                while common < shared && tree.equal(previous[common].span, segments[common].span) { common &+= 1 }
                let start = common == 0 ? EventTree.root : trail[common &- 1]
                let node = try tree.place(path, from: common, at: start, maxIndex: limits.maxArrayIndex, trail: trail)
                if let flag {
                    tree.setBool(node, flag)
                } else if isRepeat {
                    if !tree.appendRepeated(node, pair.value, maxIndex: limits.maxArrayIndex) {
                        repeatOverLimit = tree.nodes[Int(node)].kind == .array ? Int(tree.nodes[Int(node)].childCount) : 1
                    }
                } else {
                    tree.setString(node, pair.value)
                }
                swap(&previous, &segments)
                previousCount = segmentCount
            } catch {
                throw .arrayIndexOverLimit(parameter: quotable(tree.textBytes(pair.name)),
                                           index: quotable(tree.textBytes(error.segment.span), limit: 24),
                                           limit: limits.maxArrayIndex)
            }
            if let index = repeatOverLimit {
                throw .arrayIndexOverLimit(parameter: quotable(tree.textBytes(pair.name)), index: String(index), limit: limits.maxArrayIndex)
            }
        }

        guard let writeKey, writeKey.count > 0 else { throw .missingWriteKey }
        return writeKey
    }

    /// `anonymousId` present and not blank once one pair of quotes is
    /// stripped (the stripping stays in the event), then `event` on track.
    mutating func checkIdentity(type: EventType) throws(PixelError) {
        let id = anonymousIdWithoutQuotes()
        guard id.node >= 0 else { throw .missingAnonymousId }
        if id.quoted { tree.setString(id.node, id.value) }
        if Identity.isBlank(tree.textBytes(id.value)) { throw .missingAnonymousId }

        if type == .track {
            guard let node = tree.rootMember(.event), let name = tree.string(at: node), name.count > 0 else {
                throw .missingEvent
            }
        }
    }

    /// The `anonymousId` string's node (-1 without a string there) and its
    /// value with one pair of surrounding quotes left out (`"abc"` → `abc`:
    /// some templates quote ids). A struct, not an optional tuple: every
    /// hit asks, and a CGI start would make the tuple's metadata.
    struct AnonymousIdValue {
        var node: Int32 = -1
        var value = EventTree.noSpan
        var quoted = false
    }

    func anonymousIdWithoutQuotes() -> AnonymousIdValue {
        guard let node = tree.rootMember(.anonymousId), let value = tree.string(at: node) else { return AnonymousIdValue() }
        if value.count >= 2, tree.text[Int(value.start)] == UInt8(ascii: "\""),
           tree.text[Int(value.start + value.count - 1)] == UInt8(ascii: "\"") {
            return AnonymousIdValue(node: node, value: ByteSpan(start: Int(value.start) + 1, count: Int(value.count) - 2), quoted: true)
        }
        return AnonymousIdValue(node: node, value: value)
    }

    /// A click's `event` when the link names none (or an empty one).
    mutating func nameClick() {
        if let node = tree.rootMember(.event), let name = tree.string(at: node), name.count > 0 { return }
        tree.setString(tree.place(words: ServerPath.event), Word.linkClicked.span)
    }

    /// Adds what the server sets (SPEC §3), writes the line and refuses it
    /// when the event is over `limits.maxEventBytes`.
    ///
    /// - Parameter takesQueryAddress: the URL's signature was checked, so
    ///   its own `context.ip` (set aside by `apply`) is stored; otherwise
    ///   `context.ip` is the address the server determined.
    mutating func finish(type: EventType, facts: HitFacts, writeKey: ByteSpan, writeKeyText: String,
                         takesQueryAddress: Bool = false) throws(PixelError) -> PixelEvent {
        if type == .page {
            if let node = tree.rootMember(.name), tree.string(at: node)?.count == 0 {
                tree.setString(node, Word.unknownPage.span)
            }
            mirrorPageFields()
        }
        addCampaign()

        let now = stamp(facts.receivedAtMillis)
        let ip = tree.appendText(facts.clientIP)
        setIfAbsent(ServerPath.channel, string: Word.web.span)
        if let userAgent = facts.userAgent {
            setIfAbsent(ServerPath.contextUserAgent, string: tree.appendText(userAgent))
        }
        if takesQueryAddress, var given = queryAddress {
            if facts.anonymizesAddresses {
                // Shortened like the server's; anything else there could
                // be an address spelled oddly: left empty.
                let text = String(decoding: tree.textBytes(given), as: UTF8.self)
                given = AddressAnonymizer.anonymized(text).map { tree.appendText($0) } ?? EventTree.noSpan
            }
            tree.setString(tree.place(words: ServerPath.contextIP), given)
        } else if ip.count > 0 {
            setIfAbsent(ServerPath.contextIP, string: ip)
        }
        if let mark = facts.traffic {
            let node = tree.place(words: ServerPath.contextTraffic)
            tree.reset(node, to: .object)
            let hitClass = tree.appendText(mark.hitClass.rawValue)
            tree.append(tree.newNode(.string, key: Word.classWord.span, value: hitClass), to: node)
            let ruleSpan = mark.rule.map { tree.appendText($0) }
            if let ruleSpan { tree.append(tree.newNode(.string, key: Word.rule.span, value: ruleSpan), to: node) }
            if mark.hitClass == .bot {
                // As RudderStack's bot enricher writes them (rudder-server
                // `internal/enricher/bot.go`): `name`, and `url` where known.
                tree.reset(tree.place(words: ServerPath.contextIsBot), to: .trueValue)
                let bot = tree.place(words: ServerPath.contextBot)
                tree.reset(bot, to: .object)
                if let ruleSpan { tree.append(tree.newNode(.string, key: Word.name.span, value: ruleSpan), to: bot) }
                if let url = mark.ruleURL {
                    tree.append(tree.newNode(.string, key: Word.url.span, value: tree.appendText(url)), to: bot)
                }
            }
        }
        if let target = clickTarget {
            tree.setString(tree.place(words: ServerPath.propertiesURL), target)
        }
        if let node = tree.placeIfAbsent(words: ServerPath.integrations) {
            tree.reset(node, to: .object)
            tree.append(tree.newNode(.trueValue, key: Word.all.span), to: node)
        } else if let node = tree.rootMember(.integrations), tree.nodes[Int(node)].kind == .object,
                  tree.member(node, Word.all.span) == nil {
            tree.append(tree.newNode(.trueValue, key: Word.all.span), to: node)  // `All` stays on unless the query says
        }
        // A blank messageId is no id: the data plane would mint one, so do we.
        if let node = tree.rootMember(.messageId), let id = tree.string(at: node),
           Identity.isBlank(tree.textBytes(id)) {
            tree.setString(node, tree.appendText(facts.messageId))
        } else {
            setIfAbsent(ServerPath.messageId, string: tree.appendText(facts.messageId))
        }
        // A timestamp the processor can read is the client's to give; one it
        // cannot (a typo, an object) it would replace with this same rule.
        let given = tree.rootMember(.timestamp)
        if given.flatMap({ tree.string(at: $0) }).flatMap({ ClientTime.parseMillis(tree.textBytes($0)) }) == nil {
            let millis = ClientTime.timestamp(hitMillis: facts.receivedAtMillis,
                                              originalTimestamp: clientTime(.originalTimestamp), sentAt: clientTime(.sentAt))
            tree.setString(given ?? tree.place(words: ServerPath.timestamp), millis == facts.receivedAtMillis ? now : stamp(millis))
        }
        setIfAbsent(ServerPath.originalTimestamp, string: now)
        setIfAbsent(ServerPath.sentAt, string: now)
        tree.setString(tree.place(words: ServerPath.receivedAt), now)
        tree.setString(tree.place(words: ServerPath.requestIP), ip)
        let event = line(writeKey: writeKey, writeKeyText: writeKeyText)
        if event.eventRange.count > limits.maxEventBytes { throw .eventTooLarge(limit: limits.maxEventBytes) }
        return event
    }

    /// `millis` as an ISO 8601 time in the text.
    mutating func stamp(_ millis: Int64) -> ByteSpan {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            ISO8601.write(millis: millis, into: buffer.baseAddress!)
            return tree.appendText(UnsafeBufferPointer(buffer))
        }
    }

    /// Whether a name starts with `properties.` (repeats there make arrays).
    func isPropertiesName(_ name: ByteSpan) -> Bool {
        let prefix = Word.properties.span
        return name.count > prefix.count && tree.text[Int(name.start) + Int(prefix.count)] == UInt8(ascii: ".")
            && paddedEqual(tree.text + Int(name.start), tree.text + Int(prefix.start), Int(prefix.count))
    }

    /// The string a top-level member holds, if it is one.
    func clientTime(_ word: Word) -> UnsafeBufferPointer<UInt8>? {
        tree.rootMember(word).flatMap { tree.string(at: $0) }.map { tree.textBytes($0) }
    }

    /// `true` or `false`, exactly.
    func boolean(_ value: ByteSpan) -> Bool? {
        if tree.equal(value, Word.trueWord.span) { return true }
        if tree.equal(value, Word.falseWord.span) { return false }
        return nil
    }

    /// `{"writeKey":…,"event":{…}}` and a newline, written once by the
    /// workspace's writer and copied out at its size.
    func line(writeKey: ByteSpan, writeKeyText: String) -> PixelEvent {
        let eventRange = EventBuilder.writeLine(tree: tree, writeKey: writeKey, click: clickTarget != nil, into: &workspace.line)
        return PixelEvent(writeKey: writeKeyText, recordLine: workspace.line.bytes, eventRange: eventRange)
    }

    /// Writes the line into `out` (emptied first); returns where the event
    /// lies in it. One access to the workspace's writer for the whole line.
    /// A click's line says so after the event (`SpoolLine.route`).
    static func writeLine(tree: EventTree, writeKey: ByteSpan, click: Bool, into out: inout JSONWriter) -> Range<Int> {
        out.removeAll()
        out.raw(PixelEvent.recordPrefix)
        out.string(padded: tree.text + Int(writeKey.start), count: Int(writeKey.count))
        out.raw(PixelEvent.recordMiddle)
        let start = out.count
        tree.encode(EventTree.root, into: &out)
        let end = out.count
        if click {
            out.raw(PixelEvent.clickMember)
            out.raw("\n")
        } else {
            out.raw("}\n")
        }
        return start..<end
    }

    /// Splits a name into `segments` on `.`; `\.` is a literal dot and any
    /// other backslash stands for itself. An empty segment (`a..b`, `.a`,
    /// `a.`, or an empty name) or more than `limits.maxDepth` segments throws.
    mutating func split(_ name: ByteSpan) throws(PixelError) {
        segmentCount = 0
        let text = tree.text
        let start = Int(name.start), end = start &+ Int(name.count)
        var segmentStart = start
        var i = start
        while i < end {
            // Eight bytes at a time, straight to the next `.` or `\\`; the
            // text has slack, and bytes past the name are set to 0xFF, which
            // is neither.
            var x = UnsafeRawPointer(text + i).loadUnaligned(as: UInt64.self)
            if end &- i < 8 { x |= ~((1 << UInt64(8 &* (end &- i))) &- 1) }
            let dot = x ^ 0x2E2E_2E2E_2E2E_2E2E
            let backslash = x ^ 0x5C5C_5C5C_5C5C_5C5C
            let ones: UInt64 = 0x0101_0101_0101_0101
            let found = (((dot &- ones) & ~dot) | ((backslash &- ones) & ~backslash)) & 0x8080_8080_8080_8080
            if found == 0 {
                i &+= 8
                continue
            }
            // The lowest flag is exact (borrows only run upward).
            i &+= found.trailingZeroBitCount &>> 3
            // A backslash, or an empty or excess segment: the careful path
            // unescapes or reports it.
            if text[i] == UInt8(ascii: "\\") || i == segmentStart || segmentCount &+ 1 >= limits.maxDepth {
                return try splitEscaped(name)
            }
            segments[segmentCount] = EventBuilder.segment(text, segmentStart, i)
            segmentCount &+= 1
            i &+= 1
            segmentStart = i
        }
        if segmentStart == end { return try splitEscaped(name) }
        segments[segmentCount] = EventBuilder.segment(text, segmentStart, end)
        segmentCount &+= 1
    }

    /// `split` for names with a backslash, and the one place that reports
    /// an empty or excess segment: segments are unescaped into new bytes at
    /// the end of the text. Rare, so plain.
    mutating func splitEscaped(_ name: ByteSpan) throws(PixelError) {
        segmentCount = 0
        let raw = Array(tree.textBytes(name))
        var current: [UInt8] = []
        func finish() {
            let span = current.withUnsafeBufferPointer { tree.appendText($0) }
            segments[segmentCount] = EventBuilder.segment(tree.text, Int(span.start), Int(span.start + span.count))
            segmentCount += 1
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
                if segmentCount >= limits.maxDepth { throw .tooDeep(parameter: quotable(raw), limit: limits.maxDepth) }
            } else {
                current.append(b)
            }
            i += 1
        }
        if current.isEmpty { throw .emptySegment(parameter: quotable(raw)) }
        finish()
    }

    /// A segment, with its value when it is digits only, and its prefix
    /// (the text has slack, so the 8-byte load stays inside it).
    @inline(__always)
    static func segment(_ bytes: UnsafeMutablePointer<UInt8>, _ start: Int, _ end: Int) -> EventTree.Segment {
        let count = end &- start
        let prefix = EventTree.prefix(bytes + start, count: count)
        let span = ByteSpan(start: start, count: count)
        let first = bytes[start]
        guard first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else {
            return EventTree.Segment(span: span, index: EventTree.Segment.notIndex, prefix: prefix, rootSlot: -1)
        }
        var value = 0
        for i in start..<end {
            let b = bytes[i]
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else {
                return EventTree.Segment(span: span, index: EventTree.Segment.notIndex, prefix: prefix, rootSlot: -1)
            }
            value = value <= (Int.max - 9) / 10 ? value * 10 + Int(b - UInt8(ascii: "0")) : Int.max
        }
        return EventTree.Segment(span: span, index: value, prefix: prefix, rootSlot: -1)
    }

    /// Sets `path` to a string unless a value already stands there.
    mutating func setIfAbsent(_ path: [EventTree.Segment], string: ByteSpan) {
        if let node = tree.placeIfAbsent(words: path) { tree.setString(node, string) }
    }

    /// Copies each of path/url/referrer/title between `properties` and
    /// `context.page` where it stands in one and not the other.
    mutating func mirrorPageFields() {
        let properties = tree.lookup(ServerPath.properties).flatMap { tree.nodes[Int($0)].kind == .object ? $0 : nil }
        let page = tree.lookup(ServerPath.contextPage).flatMap { tree.nodes[Int($0)].kind == .object ? $0 : nil }
        guard properties != nil || page != nil else { return }
        let (a, b, c, d) = EventBuilder.mirroredPageFields
        // Four calls, not a loop over an array of `Word` (whose metadata a
        // CGI start would make).
        mirror(a, properties, page)
        mirror(b, properties, page)
        mirror(c, properties, page)
        mirror(d, properties, page)
    }

    mutating func mirror(_ field: Word, _ properties: Int32?, _ page: Int32?) {
        let inProperties = properties.flatMap { tree.member($0, field.span) }
        let inPage = page.flatMap { tree.member($0, field.span) }
        if inProperties == nil, let inPage {
            copyIfAbsent(inPage, to: Word.path(.properties, field))
        } else if inPage == nil, let inProperties {
            copyIfAbsent(inProperties, to: Word.path(.context, .page, field))
        }
    }

    mutating func copyIfAbsent(_ source: Int32, to path: [EventTree.Segment]) {
        if let node = tree.placeIfAbsent(words: path) { tree.copy(source, into: node) }
    }
}
