/// The set of names seen so far, by their bytes: open addressing over pair
/// spans in the workspace's memory, sized once for the query's pairs.
struct NameSet {
    static let empty = ByteSpan(start: 0, count: -1)
    let slots: UnsafeMutablePointer<ByteSpan>
    let mask: Int

    init(capacity: Int, reusing workspace: EventWorkspace) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        workspace.reserve(names: size)
        slots = workspace.names
        slots.initialize(repeating: NameSet.empty, count: size)
        mask = size - 1
    }

    /// Adds `name`; false when an equal name was already there.
    mutating func insert(_ name: ByteSpan, tree: EventTree) -> Bool {
        let h = tree.hash(name, prefix: tree.prefix(name))
        var slot = Int(truncatingIfNeeded: h &>> 32) & mask
        while slots[slot].count >= 0 {
            if tree.equal(slots[slot], name) { return false }
            slot = (slot &+ 1) & mask
        }
        slots[slot] = name
        return true
    }
}
