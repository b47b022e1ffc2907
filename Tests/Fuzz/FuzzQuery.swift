// libFuzzer target over query → event → JSON (issue #6), built by
// Tests/Fuzz/run with `swiftc -sanitize=fuzzer,address` together with the
// PixelCore sources. For every input, as a page and as a track hit:
//   - no crash, no memory error (AddressSanitizer);
//   - an accepted event is one spool line that parses back (valid JSON, the
//     write key beside the event);
//   - the line's size is within a linear bound of the query's.
//
// Compiled in one module with PixelCore's sources (no import), so internal
// checks are reachable too.

enum Fuzz {
    static let facts = HitFacts(receivedAtMillis: 1_795_785_972_345, messageId: "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
                                userAgent: "fuzz/1.0", clientIP: "203.0.113.7")
    /// libFuzzer calls the target from one thread.
    nonisolated(unsafe) static let workspace = EventWorkspace()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let facts = Fuzz.facts, workspace = Fuzz.workspace
    let query = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    var pairs = 1
    for b in query where b == UInt8(ascii: "&") { pairs += 1 }
    // Each byte becomes at most a 6-byte escape; each pair at most 16 nested
    // arrays of 256 slots ("null,"); mirroring can copy a subtree once more.
    let bound = 2 * (6 * size + pairs * (16 * 256 * 5 + 64)) + 4096
    for type in [EventType.page, .track] {
        for reuse in [true, false] {
            let event: PixelEvent
            do {
                event = reuse ? try EventEngine.build(type: type, query: query, facts: facts, workspace: workspace)
                              : try EventEngine.build(type: type, query: query, facts: facts)
            } catch {
                _ = error.message  // every refusal has an answer
                continue
            }
            let line = event.recordLine
            precondition(line.last == 0x0A && !line.dropLast().contains(0x0A), "not one line")
            guard let parsed = SpoolLine.parse(line.dropLast()[...]) else { preconditionFailure("not a spool record: \(line)") }
            precondition(parsed.writeKey == event.writeKey && parsed.eventRange == event.eventRange, "does not parse back")
            precondition(line.count <= bound, "line of \(line.count) bytes for a \(size)-byte query")
        }
    }
    return 0
}
