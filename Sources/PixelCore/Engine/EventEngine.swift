/// The event engine: one pixel hit's raw query string in, one spool line
/// out. Everything that turns a query into an event is behind this type;
/// the rest of the package sees `EventEngine`, `EventDraft`, `PixelEvent`,
/// `HitFacts` and `EventWorkspace`.
///
///     query ─decode→ pairs ─apply→ tree + write key ─checks→ event ─finish→ JSON line
///
/// 1. **decode** (`QueryDecoder`, SPEC §2): the query's length is checked
///    first (414), then each pair is percent-decoded into one text buffer,
///    as spans; malformed escapes, bad UTF-8 and names over the limits
///    answer 400 here, in query order.
/// 2. **tree** (`EventBuilder`, `EventTree`, SPEC §3): the pairs are
///    applied in order to a flat JSON tree over that text; `writeKey` is
///    taken out. `draft` stops here and returns an `EventDraft`: the tree
///    and the write key (`missingWriteKey` when there is none).
/// 3. **checks** (SPEC §4, in this order, the first failure answers): the
///    write key against the allow-list (`EventDraft.checkWriteKey`), then,
///    for signed URLs, the signature (the caller's: `PixelHandler` with
///    `SignedQuery`), then identity: `anonymousId`, and `event` on track
///    (`EventDraft.checkIdentity`).
/// 4. **finish** (`EventDraft.finish`): the server's fields are added, the
///    line `{"writeKey":…,"event":{…}}` is written once by the workspace's
///    `JSONWriter`, and an event over `PixelLimits.maxEventBytes` is
///    refused (`event too large`).
///
/// `build` runs all of it for callers without signed URLs.
public enum EventEngine {
    /// Steps 1 and 2: the query decoded and applied, with its write key.
    ///
    /// - Parameter workspace: memory to reuse; a long-lived process passes
    ///   the same one for every hit of a thread. The draft holds it until
    ///   it is finished or dropped.
    public static func draft(
        type: EventType,
        route: PixelRoute? = nil,
        query: UnsafeBufferPointer<UInt8>,
        facts: HitFacts,
        limits: PixelLimits = .default,
        workspace: EventWorkspace = EventWorkspace()
    ) throws(PixelError) -> EventDraft {
        // Before any copying: an over-long query costs nothing but this check.
        if query.count > limits.maxQueryBytes { throw .queryTooLong(limit: limits.maxQueryBytes) }
        var draft = EventDraft(type: type, route: route, facts: facts,
                               builder: EventBuilder(workspace: workspace, query: query, facts: facts, limits: limits))
        try draft.apply(query)
        return draft
    }

    /// The whole path, checking in the order of SPEC §4: the query's bytes
    /// and names, then `writeKey` (present, then allowed), then
    /// `anonymousId`, then `event` for track, then the event's size.
    ///
    /// - Parameter allowedWriteKeys: empty accepts any write key.
    public static func build(
        type: EventType,
        query: UnsafeBufferPointer<UInt8>,
        facts: HitFacts,
        limits: PixelLimits = .default,
        allowedWriteKeys: Set<String> = [],
        workspace: EventWorkspace = EventWorkspace()
    ) throws(PixelError) -> PixelEvent {
        var draft = try draft(type: type, query: query, facts: facts, limits: limits, workspace: workspace)
        try draft.checkWriteKey(allowed: allowedWriteKeys)
        try draft.checkIdentity()
        return try draft.finish()
    }

    /// Convenience for tests and tools holding a `String`.
    public static func build(
        type: EventType, route: PixelRoute? = nil, query: String, facts: HitFacts, limits: PixelLimits = .default,
        allowedWriteKeys: Set<String> = []
    ) throws(PixelError) -> PixelEvent {
        var query = query
        let result = query.withUTF8 { buffer in
            Result { () throws(PixelError) -> PixelEvent in
                guard let route else {
                    return try EventEngine.build(type: type, query: buffer, facts: facts, limits: limits, allowedWriteKeys: allowedWriteKeys)
                }
                var draft = try draft(type: type, route: route, query: buffer, facts: facts, limits: limits)
                try draft.checkWriteKey(allowed: allowedWriteKeys)
                try draft.checkIdentity()
                return try draft.finish()
            }
        }
        return try result.get()
    }
}
