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
    /// What a click's line has after its event: the route is not in the
    /// event (a click records a `track`), and the drain and `stats` count
    /// stored events by route from the line alone.
    static let clickMember = SpoolLine.clickEnding

    /// The event came by the click route (its line ends with the route).
    public var isClick: Bool { recordLine.dropLast().suffix(PixelEvent.clickMember.count).elementsEqual(PixelEvent.clickMember) }

    /// The event's JSON object.
    public var eventJSON: ArraySlice<UInt8> { recordLine[eventRange] }
}
