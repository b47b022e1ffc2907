/// Memory the event engine reuses from one hit to the next: the text and
/// node buffers, the segment and pair lists, the name set and the writer
/// of the line. A long-lived process keeps one per serving thread, so a hit
/// allocates little more than its final line; without one, each build
/// makes its own. Not for use by two builds at once: an `EventDraft`
/// holds it from `EventEngine.draft` until the draft is finished or dropped.
public final class EventWorkspace {
    var text: UnsafeMutablePointer<UInt8>
    var textCapacity: Int
    var nodes: UnsafeMutablePointer<EventTree.Node>
    var nodeCapacity: Int
    /// Two lists of `segmentCapacity` segments: the name in hand, and the
    /// last one placed; `trail` holds the nodes that last one reached.
    var segments: UnsafeMutablePointer<EventTree.Segment>
    var trail: UnsafeMutablePointer<Int32>
    var segmentCapacity: Int
    /// Writes the line, which is then copied out at its size.
    var line = JSONWriter(capacity: 8192)
    var index: UnsafeMutablePointer<EventTree.IndexEntry>
    var indexCapacity: Int
    var pairs: [PairSpans] = []
    var names: UnsafeMutablePointer<ByteSpan>
    var namesCapacity: Int
    /// `EventTree.rootWords`.
    let rootWords = UnsafeMutablePointer<Int32>.allocate(capacity: Word.rootSlotCount)

    public init() {
        textCapacity = 4096
        text = EventWorkspace.zeroed(textCapacity + EventTree.slack)
        nodeCapacity = 128
        nodes = .allocate(capacity: nodeCapacity)
        segmentCapacity = 16
        segments = .allocate(capacity: 2 * segmentCapacity)
        trail = .allocate(capacity: segmentCapacity)
        indexCapacity = 256
        index = .allocate(capacity: indexCapacity)
        EventTree.clear(index, indexCapacity)
        namesCapacity = 64
        names = .allocate(capacity: namesCapacity)
    }

    deinit {
        text.deallocate()
        nodes.deallocate()
        segments.deallocate()
        trail.deallocate()
        index.deallocate()
        names.deallocate()
        rootWords.deallocate()
    }

    /// Text memory is zeroed once when allocated, so 8-byte loads past the
    /// end of a span always read initialized bytes.
    static func zeroed(_ count: Int) -> UnsafeMutablePointer<UInt8> {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        p.initialize(repeating: 0, count: count)
        return p
    }

    func reserve(text needed: Int, segments neededSegments: Int) {
        if needed > textCapacity {
            text.deallocate()
            textCapacity = max(needed, 2 * textCapacity)
            text = EventWorkspace.zeroed(textCapacity + EventTree.slack)
        }
        if neededSegments > segmentCapacity {
            segments.deallocate()
            trail.deallocate()
            segmentCapacity = neededSegments
            segments = .allocate(capacity: 2 * segmentCapacity)
            trail = .allocate(capacity: segmentCapacity)
        }
    }

    func reserve(names needed: Int) {
        if needed > namesCapacity {
            names.deallocate()
            namesCapacity = needed
            names = .allocate(capacity: namesCapacity)
        }
    }
}
