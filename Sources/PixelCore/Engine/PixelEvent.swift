/// A RudderStack `page` or `track` event built from a pixel hit: its spool
/// line `{"writeKey":…,"event":{…}}` and the write key beside it.
public struct PixelEvent: Sendable, Equatable {
    public var writeKey: String
    /// The spool line, newline included.
    public var recordLine: [UInt8]
    /// Where the event's JSON object lies in `recordLine`.
    public var eventRange: Range<Int>

    static let recordPrefix = Array(#"{"writeKey":"#.utf8)
    static let recordMiddle = Array(#","event":"#.utf8)

    /// The event's JSON object.
    public var eventJSON: ArraySlice<UInt8> { recordLine[eventRange] }

    /// The whole engine (`EventEngine.build`): the name the rest of the
    /// package, the tests and the benchmark call.
    public static func build(
        type: EventType,
        query: UnsafeBufferPointer<UInt8>,
        facts: HitFacts,
        limits: PixelLimits = .default,
        allowedWriteKeys: Set<String> = [],
        workspace: EventWorkspace = EventWorkspace()
    ) throws(PixelError) -> PixelEvent {
        try EventEngine.build(type: type, query: query, facts: facts, limits: limits, allowedWriteKeys: allowedWriteKeys,
                              workspace: workspace)
    }

    /// Convenience for tests and tools holding a `String`.
    public static func build(
        type: EventType, query: String, facts: HitFacts, limits: PixelLimits = .default, allowedWriteKeys: Set<String> = []
    ) throws(PixelError) -> PixelEvent {
        var query = query
        let result = query.withUTF8 { buffer in
            Result { () throws(PixelError) -> PixelEvent in
                try build(type: type, query: buffer, facts: facts, limits: limits, allowedWriteKeys: allowedWriteKeys)
            }
        }
        return try result.get()
    }
}
