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
    /// The route the hit came in on (click links carry a target).
    let route: PixelRoute?
    /// Parameters left out because their names look like secrets
    /// (`HitFacts.secretNames`), as sent; for the log.
    public var scrubbedNames: [String] { builder.scrubbedNames }
    /// How many pairs were left out (a repeated name counts each time).
    public var scrubbedPairs: Int { builder.scrubbedPairs }

    init(type: EventType, route: PixelRoute? = nil, facts: HitFacts, builder: EventBuilder) {
        self.type = type
        self.route = route
        self.facts = facts
        self.builder = builder
    }

    deinit {
        builder.giveBack()
    }

    /// Decodes `query` and applies it (`EventEngine.draft`'s steps 1 and 2).
    mutating func apply(_ query: UnsafeBufferPointer<UInt8>) throws(PixelError) {
        try builder.decode(query)
        writeKeySpan = try builder.apply(type: type, route: route)
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
        if route == .click { builder.nameClick() }
        try builder.checkIdentity(type: type)
    }

    /// Whether the hit names a visitor: an `anonymousId` with something
    /// visible in it (the first half of `checkIdentity`).
    public var hasAnonymousId: Bool {
        let id = builder.anonymousIdWithoutQuotes()
        return id.node >= 0 && !Identity.isBlank(builder.tree.textBytes(id.value))
    }

    /// Sets `anonymousId` (a derived one, `DerivedAnonymousId`), in place
    /// of a missing or blank one.
    public mutating func setAnonymousId(_ id: String) {
        let span = builder.tree.appendText(id)
        builder.tree.setString(builder.tree.place(words: Word.path(.anonymousId)), span)
    }

    /// A click link's target as the `Location` of the answer: `missingURL`
    /// without one, `invalidClickTarget` unless it is an absolute http or
    /// https URL (`ClickTarget`).
    public func clickLocation() throws(PixelError) -> String {
        guard let span = builder.clickTarget, span.count > 0 else { throw .missingClickTarget }
        guard let location = ClickTarget.location(builder.tree.textBytes(span)) else { throw .invalidClickTarget }
        return location
    }

    /// Adds the server's fields and writes the spool line; `eventTooLarge`
    /// when the event is over the limit. Call it after the checks: it
    /// makes no checks of its own but the size.
    public consuming func finish() throws(PixelError) -> PixelEvent {
        try builder.finish(type: type, facts: facts, writeKey: writeKeySpan, writeKeyText: writeKey,
                           takesQueryAddress: takesQueryAddress)
    }

    /// Set by the caller once the URL's signature is checked: then the
    /// query's own `context.ip` is stored. Unsigned, a page could place its
    /// hits anywhere, since RudderStack prefers `context.ip` to
    /// `request_ip` for geolocation, destinations and the warehouse.
    public var takesQueryAddress = false

    /// The query named `context.ip` and it will not be stored (an
    /// unsigned URL): for a debug line.
    public var ignoresQueryAddress: Bool { builder.queryNamedAddress && !(takesQueryAddress && builder.queryAddress != nil) }
}
