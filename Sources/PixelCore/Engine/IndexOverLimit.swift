/// A digit segment over the array-index limit.
struct IndexOverLimit: Error {
    var segment: EventTree.Segment
}
