/// An event between the engine's steps (see `EventEngine`): the query
/// decoded and applied to the tree, the write key taken out, and nothing
/// checked yet but the query's own rules and that a write key was given.
///
/// The caller runs the checks SPEC §4 puts next, in its order
/// (`checkWriteKey`, its own signature check, `checkIdentity`), then
/// `finish`. Noncopyable because it holds the workspace's memory: whether
/// it is finished or dropped at a refusal, it gives that memory back once.
public struct EventDraft: ~Copyable {
    public let type: EventType
    let facts: HitFacts
    var builder: EventBuilder
    /// The write key's bytes in the tree's text.
    var writeKeySpan = ByteSpan(start: 0, count: 0)
    /// The write key, which travels beside the event (SPEC §6); never empty.
    public private(set) var writeKey = ""

    init(type: EventType, facts: HitFacts, builder: EventBuilder) {
        self.type = type
        self.facts = facts
        self.builder = builder
    }

    deinit {
        builder.giveBack()
    }

    /// Decodes `query` and applies it (`EventEngine.draft`'s steps 1 and 2).
    mutating func apply(_ query: UnsafeBufferPointer<UInt8>) throws(PixelError) {
        try builder.decode(query)
        writeKeySpan = try builder.apply(type: type)
        writeKey = String(decoding: builder.tree.textBytes(writeKeySpan), as: UTF8.self)
    }

    /// `invalidWriteKey` unless `allowed` is empty or holds the write key.
    public func checkWriteKey(allowed: Set<String>) throws(PixelError) {
        if !allowed.isEmpty && !allowed.contains(writeKey) { throw .invalidWriteKey }
    }

    /// `missingAnonymousId` when `anonymousId` is missing or blank (one
    /// pair of surrounding quotes is stripped first, and stays stripped),
    /// then, on track, `missingEvent` without a non-empty `event`.
    public mutating func checkIdentity() throws(PixelError) {
        try builder.checkIdentity(type: type)
    }

    /// Adds the server's fields and writes the spool line; `eventTooLarge`
    /// when the event is over the limit. Call it after the checks: it
    /// makes no checks of its own but the size.
    public consuming func finish() throws(PixelError) -> PixelEvent {
        try builder.finish(type: type, facts: facts, writeKey: writeKeySpan, writeKeyText: writeKey)
    }
}
