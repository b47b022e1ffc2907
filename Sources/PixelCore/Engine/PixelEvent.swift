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
}
