/// The event being built: a JSON tree in one flat array of nodes whose keys
/// and strings are spans of one byte buffer (the decoded query, plus the
/// server's words and values).
///
/// Objects keep their members in insertion order (a linked list of
/// children), so the output is a function of the query alone. Arrays keep
/// their elements sorted by index and leave gaps out: the missing slots are
/// written as `null` when encoding, so `a.255=x` costs one node, not 256.
/// A node replaced by a later pair is simply left unreachable.
///
/// Both buffers are raw memory lent by an `EventWorkspace` for one build:
/// the text buffer is sized up front and never grows, the node buffer
/// doubles when full. `giveBack()` returns them (grown, perhaps) at the end.
///
/// The tree keeps no account of the JSON it will make: `encode` writes
/// through a `JSONWriter`, which makes room as it goes.
struct EventTree {
    enum Kind: UInt8 {
        case string, object, array, null, trueValue, falseValue
    }

    struct Node {
        var kind: Kind
        /// The member name, when the parent is an object.
        var key: ByteSpan
        /// Its first eight bytes (`EventTree.prefix`), which decide most
        /// comparisons and all of them for short keys.
        var keyPrefix: UInt64
        /// The position, when the parent is an array.
        var index: Int32
        /// The text, for a string.
        var value: ByteSpan
        var firstChild: Int32 = -1
        var lastChild: Int32 = -1
        var next: Int32 = -1
        var childCount: Int32 = 0
        /// Bumped when the node is emptied, so index entries for the
        /// children it had are recognised as stale.
        var generation: Int32 = 0
    }

    /// An entry of the member index: `child` is the member of `parent`
    /// (as it was at `generation`) whose key hashed to this slot.
    struct IndexEntry {
        var parent: Int32
        var generation: Int32
        var child: Int32
    }

    /// Objects with more members than this are looked up through the index;
    /// smaller ones, nearly all, by a scan, which is faster for them.
    static let indexThreshold: Int32 = 16

    /// One step of a path: bytes of the buffer and, when the segment is
    /// digits only, its value (saturating, so no limit admits an overflow).
    struct Segment {
        var span: ByteSpan
        var index: Int
        /// The span's first eight bytes (`EventTree.prefix`), found once
        /// when the name is split: each step of `place` compares with it.
        var prefix: UInt64
        /// `Word.rootSlot` of a server word's segment; -1 for a name's.
        var rootSlot: Int8
        static let notIndex = -1
    }

    static let root: Int32 = 0
    static let noSpan = ByteSpan(start: 0, count: 0)
    /// Spare bytes after the text, so 8-byte loads near its end stay inside.
    static let slack = 16

    let text: UnsafeMutablePointer<UInt8>
    let textCapacity: Int
    var textCount = 0
    var nodes: UnsafeMutablePointer<Node>
    var nodeCount = 0
    var nodeCapacity: Int
    /// The member index of large objects: open addressing, linear probing.
    var index: UnsafeMutablePointer<IndexEntry>
    var indexCapacity: Int
    var indexCount = 0
    /// The top-level members named by server words, by `Word.rootSlot`
    /// (-1: none yet), noted as they are added: the server looks up or
    /// sets some twenty of them a hit, each a scan of the top level's
    /// members without it.
    let rootWords: UnsafeMutablePointer<Int32>

    /// Borrows `workspace`'s buffers, with room for `textCapacity` bytes.
    init(workspace: EventWorkspace, textCapacity: Int) {
        self.textCapacity = textCapacity
        text = workspace.text
        nodes = workspace.nodes
        nodeCapacity = workspace.nodeCapacity
        index = workspace.index
        indexCapacity = workspace.indexCapacity
        rootWords = workspace.rootWords
        rootWords.update(repeating: -1, count: Word.rootSlotCount)
        _ = newNode(.object)
    }

    /// Returns the buffers, which may have grown, to `workspace`, with the
    /// index emptied for the next build.
    func giveBack(to workspace: EventWorkspace) {
        workspace.nodes = nodes
        workspace.nodeCapacity = nodeCapacity
        if indexCount > 0 { EventTree.clear(index, indexCapacity) }
        workspace.index = index
        workspace.indexCapacity = indexCapacity
    }

    static func clear(_ index: UnsafeMutablePointer<IndexEntry>, _ capacity: Int) {
        index.update(repeating: IndexEntry(parent: -1, generation: 0, child: -1), count: capacity)
    }

    /// Appends bytes to the text and returns their span. The caller sized
    /// the text for everything it appends.
    @inline(__always)
    mutating func appendText(_ source: UnsafeBufferPointer<UInt8>) -> ByteSpan {
        precondition(textCount + source.count <= textCapacity, "event text buffer sized too small")
        if let base = source.baseAddress { (text + textCount).update(from: base, count: source.count) }
        textCount += source.count
        return ByteSpan(start: textCount - source.count, count: source.count)
    }

    mutating func appendText(_ string: String) -> ByteSpan {
        var string = string
        return string.withUTF8 { appendText($0) }
    }

    func textBytes(_ span: ByteSpan) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: text + Int(span.start), count: Int(span.count))
    }

    // MARK: Lookup

    @inline(__always)
    func equal(_ a: ByteSpan, _ b: ByteSpan) -> Bool {
        guard a.count == b.count else { return false }
        return a.start == b.start || paddedEqual(text + Int(a.start), text + Int(b.start), Int(a.count))
    }

    /// The first eight bytes of `span` as one word, zeros past its end.
    /// (The text has slack, so the load stays in memory that is set.)
    @inline(__always)
    func prefix(_ span: ByteSpan) -> UInt64 {
        EventTree.prefix(text + Int(span.start), count: Int(span.count))
    }

    /// The first eight of the `count` bytes at `bytes` as one word, zeros
    /// past `count`; eight bytes are read, so `bytes` must have slack.
    @inline(__always)
    static func prefix(_ bytes: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        let x = UnsafeRawPointer(bytes).loadUnaligned(as: UInt64.self)
        return count >= 8 ? x : x & ((1 &<< UInt64(8 &* count)) &- 1)
    }

    /// Whether member `node`'s key is `key`, whose prefix is `keyPrefix`.
    @inline(__always)
    func hasKey(_ node: Int32, _ key: ByteSpan, _ keyPrefix: UInt64) -> Bool {
        let k = nodes[Int(node)].key
        guard nodes[Int(node)].keyPrefix == keyPrefix && k.count == key.count else { return false }
        return k.count <= 8 || paddedEqual(text + Int(k.start) + 8, text + Int(key.start) + 8, Int(k.count) &- 8)
    }

    /// A hash of all of `span`'s bytes, a word at a time, so that long keys
    /// that share a prefix still spread over the index.
    func hash(_ span: ByteSpan, prefix: UInt64) -> UInt64 {
        var h = (prefix ^ UInt64(UInt32(bitPattern: span.count))) &* 0x9E37_79B9_7F4A_7C15
        var i = 8
        let n = Int(span.count)
        while i < n {
            var x = UnsafeRawPointer(text + Int(span.start) + i).loadUnaligned(as: UInt64.self)
            if n &- i < 8 { x &= (1 &<< UInt64(8 &* (n &- i))) &- 1 }
            h = (h ^ (h &>> 31) ^ x) &* 0x9E37_79B9_7F4A_7C15
            i &+= 8
        }
        return h ^ (h &>> 29)
    }

    /// The member `key` of object `parent`.
    func member(_ parent: Int32, _ key: ByteSpan) -> Int32? {
        member(parent, key, prefix: prefix(key))
    }

    /// `member`, given the key's prefix.
    func member(_ parent: Int32, _ key: ByteSpan, prefix keyPrefix: UInt64) -> Int32? {
        let p = nodes[Int(parent)]
        if p.childCount > EventTree.indexThreshold {
            var slot = slotStart(parent, hash(key, prefix: keyPrefix))
            while index[slot].child >= 0 {
                let entry = index[slot]
                if entry.parent == parent && entry.generation == p.generation && hasKey(entry.child, key, keyPrefix) {
                    return entry.child
                }
                slot = (slot &+ 1) & (indexCapacity &- 1)
            }
            return nil
        }
        var child = p.firstChild
        while child >= 0 {
            if hasKey(child, key, keyPrefix) { return child }
            child = nodes[Int(child)].next
        }
        return nil
    }

    /// The member a step of a path names: a server word's top-level
    /// member from `rootWords`, any other by `member`.
    @inline(__always)
    func member(_ parent: Int32, _ segment: Segment) -> Int32? {
        if parent == EventTree.root && segment.rootSlot >= 0 {
            let found = rootWords[Int(segment.rootSlot)]
            // The slots hold while the top level only grows by `append`
            // (it is never emptied, copied into or given a key twice);
            // debug builds, which the suites run, check them against a scan.
            assert(found == (member(parent, segment.span, prefix: segment.prefix) ?? -1), "rootWords out of step")
            return found >= 0 ? found : nil
        }
        return member(parent, segment.span, prefix: segment.prefix)
    }

    /// The top-level member `word` names.
    func rootMember(_ word: Word) -> Int32? {
        let slot = word.rootSlot
        guard slot >= 0 else { return member(EventTree.root, word.span) }
        let found = rootWords[slot]
        assert(found == (member(EventTree.root, word.span) ?? -1), "rootWords out of step")
        return found >= 0 ? found : nil
    }

    /// The `Word.rootSlot` of a top-level member's key, -1 when it is no
    /// server word's: by its length, then at most three compares.
    func rootSlot(ofKey key: ByteSpan, prefix keyPrefix: UInt64) -> Int {
        @inline(__always) func names(_ word: Word) -> Bool {
            let w = word.span
            return keyPrefix == prefix(w) && (key.count <= 8 || paddedEqual(text + Int(key.start) + 8, text + Int(w.start) + 8, Int(key.count) &- 8))
        }
        switch key.count {
        case 4: return names(.type) ? Word.type.rootSlot : names(.name) ? Word.name.rootSlot : -1
        case 5: return names(.event) ? Word.event.rootSlot : -1
        case 6: return names(.sentAt) ? Word.sentAt.rootSlot : -1
        case 7: return names(.channel) ? Word.channel.rootSlot : names(.context) ? Word.context.rootSlot : -1
        case 9: return names(.messageId) ? Word.messageId.rootSlot : names(.timestamp) ? Word.timestamp.rootSlot : -1
        case 10:
            return names(.properties) ? Word.properties.rootSlot : names(.receivedAt) ? Word.receivedAt.rootSlot
                : names(.requestIP) ? Word.requestIP.rootSlot : -1
        case 11: return names(.anonymousId) ? Word.anonymousId.rootSlot : -1
        case 12: return names(.integrations) ? Word.integrations.rootSlot : -1
        case 17: return names(.originalTimestamp) ? Word.originalTimestamp.rootSlot : -1
        default: return -1
        }
    }

    /// The node at `path` (object members only), if every step exists.
    func lookup(_ path: [Segment]) -> Int32? {
        var node = EventTree.root
        for segment in path {
            guard nodes[Int(node)].kind == .object, let found = member(node, segment) else { return nil }
            node = found
        }
        return node
    }

    func string(at node: Int32) -> ByteSpan? {
        nodes[Int(node)].kind == .string ? nodes[Int(node)].value : nil
    }

    // MARK: Building

    mutating func newNode(_ kind: Kind, key: ByteSpan = EventTree.noSpan, index: Int = 0, value: ByteSpan = EventTree.noSpan) -> Int32 {
        newNode(kind, key: key, keyPrefix: prefix(key), index: index, value: value)
    }

    mutating func newNode(_ kind: Kind, key: ByteSpan, keyPrefix: UInt64, index: Int = 0, value: ByteSpan = EventTree.noSpan) -> Int32 {
        if nodeCount == nodeCapacity {
            let grown = UnsafeMutablePointer<Node>.allocate(capacity: 2 * nodeCapacity)
            grown.moveInitialize(from: nodes, count: nodeCount)
            nodes.deallocate()
            nodes = grown
            nodeCapacity *= 2
        }
        (nodes + nodeCount).initialize(to: Node(kind: kind, key: key, keyPrefix: keyPrefix, index: Int32(truncatingIfNeeded: index),
                                                value: value))
        nodeCount += 1
        return Int32(truncatingIfNeeded: nodeCount - 1)
    }

    mutating func append(_ child: Int32, to parent: Int32) {
        let last = nodes[Int(parent)].lastChild
        if last >= 0 { nodes[Int(last)].next = child } else { nodes[Int(parent)].firstChild = child }
        nodes[Int(parent)].lastChild = child
        nodes[Int(parent)].childCount &+= 1
        if parent == EventTree.root {
            let slot = rootSlot(ofKey: nodes[Int(child)].key, prefix: nodes[Int(child)].keyPrefix)
            if slot >= 0 && rootWords[slot] < 0 { rootWords[slot] = child }
        }
        guard nodes[Int(parent)].kind == .object else { return }
        let count = nodes[Int(parent)].childCount
        if count == EventTree.indexThreshold + 1 {
            // Just grown past a scan: index every member so far.
            var member = nodes[Int(parent)].firstChild
            while member >= 0 {
                addToIndex(parent, member)
                member = nodes[Int(member)].next
            }
        } else if count > EventTree.indexThreshold + 1 {
            addToIndex(parent, child)
        }
    }

    /// Turns `node` into an empty container of `kind`, dropping what it held.
    mutating func reset(_ node: Int32, to kind: Kind) {
        nodes[Int(node)].kind = kind
        nodes[Int(node)].firstChild = -1
        nodes[Int(node)].lastChild = -1
        nodes[Int(node)].childCount = 0
        nodes[Int(node)].generation &+= 1
    }

    func slotStart(_ parent: Int32, _ keyHash: UInt64) -> Int {
        let h = (keyHash ^ UInt64(UInt32(bitPattern: parent))) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: h &>> 32) & (indexCapacity &- 1)
    }

    func slotStart(_ parent: Int32, member: Int32) -> Int {
        slotStart(parent, hash(nodes[Int(member)].key, prefix: nodes[Int(member)].keyPrefix))
    }

    mutating func addToIndex(_ parent: Int32, _ child: Int32) {
        if (indexCount + 1) * 2 > indexCapacity { growIndex() }
        var slot = slotStart(parent, member: child)
        while index[slot].child >= 0 { slot = (slot &+ 1) & (indexCapacity &- 1) }
        index[slot] = IndexEntry(parent: parent, generation: nodes[Int(parent)].generation, child: child)
        indexCount += 1
    }

    /// Doubles the index, keeping only entries that are not stale.
    mutating func growIndex() {
        let old = index, oldCapacity = indexCapacity
        indexCapacity *= 2
        index = .allocate(capacity: indexCapacity)
        EventTree.clear(index, indexCapacity)
        indexCount = 0
        for i in 0..<oldCapacity where old[i].child >= 0 && old[i].generation == nodes[Int(old[i].parent)].generation {
            var slot = slotStart(old[i].parent, member: old[i].child)
            while index[slot].child >= 0 { slot = (slot &+ 1) & (indexCapacity &- 1) }
            index[slot] = old[i]
            indexCount += 1
        }
        old.deallocate()
    }

    /// The element `index` of array `parent`, inserted in order if missing.
    mutating func element(_ parent: Int32, _ index: Int) -> Int32 {
        // Past the last element (items.0, items.1, … in order): append.
        let last = nodes[Int(parent)].lastChild
        if last >= 0 && Int(nodes[Int(last)].index) < index {
            let created = newNode(.null, index: index)
            nodes[Int(last)].next = created
            nodes[Int(parent)].lastChild = created
            return created
        }
        var previous: Int32 = -1
        var child = nodes[Int(parent)].firstChild
        while child >= 0 && Int(nodes[Int(child)].index) < index {
            previous = child
            child = nodes[Int(child)].next
        }
        if child >= 0 && Int(nodes[Int(child)].index) == index { return child }
        let created = newNode(.null, index: index)
        nodes[Int(created)].next = child
        if previous >= 0 { nodes[Int(previous)].next = created } else { nodes[Int(parent)].firstChild = created }
        if child < 0 { nodes[Int(parent)].lastChild = created }
        return created
    }

    /// The node at `path`, creating containers on the way (SPEC §3).
    ///
    /// A digit segment under a missing (or replaced) parent makes that parent
    /// an array; under an existing object it is a key. Where the path needs a
    /// container and a string (or a container of the other kind) stands, it
    /// is replaced. An index over `maxIndex` throws before that step changes
    /// anything.
    mutating func place(_ path: UnsafeBufferPointer<Segment>, maxIndex: Int) throws(IndexOverLimit) -> Int32 {
        try place(path, from: 0, at: EventTree.root, maxIndex: maxIndex, trail: nil)
    }

    /// `place` for the steps of `path` from `first` on, starting at `start`,
    /// the node its earlier steps lead to. `trail[i]`, when given, gets the
    /// node step `i` reached.
    @inline(__always)
    mutating func place(_ path: UnsafeBufferPointer<Segment>, from first: Int, at start: Int32, maxIndex: Int,
                        trail: UnsafeMutablePointer<Int32>?) throws(IndexOverLimit) -> Int32 {
        var node = start
        var step = first
        while step < path.count {
            let segment = path[step]
            switch nodes[Int(node)].kind {
            case .object:
                if let found = member(node, segment) {
                    node = found
                } else {
                    let created = newNode(.null, key: segment.span, keyPrefix: segment.prefix)
                    append(created, to: node)
                    node = created
                }
            case .array where segment.index != Segment.notIndex:
                if segment.index > maxIndex { throw IndexOverLimit(segment: segment) }
                node = element(node, segment.index)
            default:
                let created: Int32
                if segment.index != Segment.notIndex {
                    if segment.index > maxIndex { throw IndexOverLimit(segment: segment) }
                    reset(node, to: .array)
                    created = newNode(.null, index: segment.index)
                } else {
                    reset(node, to: .object)
                    created = newNode(.null, key: segment.span, keyPrefix: segment.prefix)
                }
                append(created, to: node)
                node = created
            }
            trail?[step] = node
            step &+= 1
        }
        return node
    }

    /// Server paths are words, never indexes, so placing them cannot fail.
    mutating func place(words path: [Segment]) -> Int32 {
        place(words: path, from: 0, at: EventTree.root)
    }

    mutating func place(words path: [Segment], from first: Int, at start: Int32) -> Int32 {
        do {
            return try path.withUnsafeBufferPointer { (path) throws(IndexOverLimit) in
                try place(path, from: first, at: start, maxIndex: 0, trail: nil)
            }
        } catch {
            preconditionFailure("a path of words has no index")
        }
    }

    /// The node at `path` made as `place` makes it, when nothing stands
    /// there (`lookup` is nil); nil when something does. One walk for both.
    mutating func placeIfAbsent(words path: [Segment]) -> Int32? {
        var node = EventTree.root
        for step in path.indices {
            guard nodes[Int(node)].kind == .object, let found = member(node, path[step]) else {
                return place(words: path, from: step, at: node)
            }
            node = found
        }
        return nil
    }

    mutating func setString(_ node: Int32, _ value: ByteSpan) {
        reset(node, to: .string)
        nodes[Int(node)].value = value
    }

    /// Makes `node` a JSON boolean (`integrations.<Destination>`).
    mutating func setBool(_ node: Int32, _ value: Bool) {
        reset(node, to: value ? .trueValue : .falseValue)
    }

    /// A repeated `properties.` name (SPEC §2): the string at `node` becomes
    /// an array of its values in query order, and an array of strings made
    /// so grows by one. Anything else there is replaced, as any later pair
    /// replaces what stands in its way. False, changing nothing, when the
    /// new element's index would pass `maxIndex`.
    mutating func appendRepeated(_ node: Int32, _ value: ByteSpan, maxIndex: Int) -> Bool {
        switch nodes[Int(node)].kind {
        case .string:
            guard maxIndex >= 1 else { return false }
            let first = nodes[Int(node)].value
            reset(node, to: .array)
            append(newNode(.string, index: 0, value: first), to: node)
            append(newNode(.string, index: 1, value: value), to: node)
        case .array where isStringList(node):
            let count = Int(nodes[Int(node)].childCount)
            guard count <= maxIndex else { return false }
            append(newNode(.string, index: count, value: value), to: node)
        default:
            setString(node, value)
        }
        return true
    }

    /// An array of strings at indexes 0, 1, … with no gap.
    func isStringList(_ node: Int32) -> Bool {
        var expected: Int32 = 0
        var child = nodes[Int(node)].firstChild
        while child >= 0 {
            guard nodes[Int(child)].kind == .string, nodes[Int(child)].index == expected else { return false }
            expected &+= 1
            child = nodes[Int(child)].next
        }
        return expected > 0
    }

    /// Makes `target` a deep copy of `source` (strings share their bytes).
    mutating func copy(_ source: Int32, into target: Int32) {
        let kind = nodes[Int(source)].kind
        reset(target, to: kind)
        nodes[Int(target)].value = nodes[Int(source)].value
        var child = nodes[Int(source)].firstChild
        while child >= 0 {
            let created = newNode(.null, key: nodes[Int(child)].key, index: Int(nodes[Int(child)].index))
            append(created, to: target)
            copy(child, into: created)
            child = nodes[Int(child)].next
        }
    }

    // MARK: Encoding

    /// Writes `node` as compact JSON through `out`, which escapes strings
    /// (SPEC §3: every value a string, `integrations` flags booleans).
    /// Array gaps are written as `null`.
    func encode(_ node: Int32, into out: inout JSONWriter) {
        EventTree.encode(node, nodes: nodes, text: text, into: &out)
    }

    static func encode(_ node: Int32, nodes: UnsafeMutablePointer<Node>, text: UnsafeMutablePointer<UInt8>,
                       into out: inout JSONWriter) {
        let n = nodes[Int(node)]
        switch n.kind {
        case .string:
            out.string(padded: text + Int(n.value.start), count: Int(n.value.count))
        case .null:
            out.raw("null")
        case .trueValue:
            out.raw("true")
        case .falseValue:
            out.raw("false")
        case .object:
            out.byte(UInt8(ascii: "{"))
            var child = n.firstChild
            while child >= 0 {
                // A comma, the quoted key and a colon: one reservation.
                let key = nodes[Int(child)].key
                out.reserve(4 &+ 6 &* Int(key.count))
                if child != n.firstChild { out.reservedByte(UInt8(ascii: ",")) }
                out.reservedString(padded: text + Int(key.start), count: Int(key.count))
                out.reservedByte(UInt8(ascii: ":"))
                // Most members are strings: written here, without a call.
                if nodes[Int(child)].kind == .string {
                    let value = nodes[Int(child)].value
                    out.string(padded: text + Int(value.start), count: Int(value.count))
                } else {
                    encode(child, nodes: nodes, text: text, into: &out)
                }
                child = nodes[Int(child)].next
            }
            out.byte(UInt8(ascii: "}"))
        case .array:
            out.byte(UInt8(ascii: "["))
            var expected: Int32 = 0
            var child = n.firstChild
            while child >= 0 {
                let index = nodes[Int(child)].index
                if expected < index {
                    // The gap before this element: `null,` for each slot.
                    out.reserve(5 &* Int(index &- expected))
                    while expected < index {
                        if expected > 0 { out.reservedByte(UInt8(ascii: ",")) }
                        out.reservedRaw(StaticString("null").utf8Start, count: 4)
                        expected &+= 1
                    }
                }
                if expected > 0 { out.byte(UInt8(ascii: ",")) }
                encode(child, nodes: nodes, text: text, into: &out)
                expected &+= 1
                child = nodes[Int(child)].next
            }
            out.byte(UInt8(ascii: "]"))
        }
    }
}
