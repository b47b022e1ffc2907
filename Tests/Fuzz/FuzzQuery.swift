// libFuzzer target over query → event → JSON (issue #6), built by
// Tests/Fuzz/run with `swiftc -sanitize=fuzzer,address` together with the
// PixelCore sources. For every input, as a page and as a track hit:
//   - no crash, no memory error (AddressSanitizer);
//   - an accepted event is one spool line that parses back (valid JSON, the
//     write key beside the event) and is counted by its route;
//   - the line's size is within a linear bound of the query's;
//   - as a click link's query, a target is a Location with no byte that
//     could end or add a header;
//   - as a user agent and a purpose header, classing never fails, and a
//     refused hit's stored query is never longer than the query.
//
// Compiled in one module with PixelCore's sources (no import), so internal
// checks are reachable too.

enum Fuzz {
    static let facts = HitFacts(receivedAtMillis: 1_795_785_972_345, messageId: "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b",
                                userAgent: "fuzz/1.0", clientIP: "203.0.113.7", traffic: TrafficMark(hitClass: .bot, rule: "crawler-word"),
                                anonymizesAddresses: true, secretNames: .default)
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
            // Counted by its route, read both ways (the drain's, stats').
            let route: PixelRoute = type == .page ? .page : .track
            precondition(SpoolLine.route(line.dropLast()[...], eventRange: parsed.eventRange) == route
                && SpoolLine.routeOfLine(line.dropLast()[...]) == route, "a \(route) line counted otherwise")
            precondition(line.count <= bound, "line of \(line.count) bytes for a \(size)-byte query")
        }
    }
    // The click route: its target, when accepted, is a safe Location.
    do {
        var draft = try EventEngine.draft(type: .track, route: .click, query: query, facts: facts, workspace: workspace)
        try draft.checkIdentity()
        let location = try? draft.clickLocation()
        if let location {
            precondition(location.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "a Location byte that is no URL's: \(location)")
            precondition(location.utf8.count <= 3 * ClickTarget.maxBytes, "a Location past its bound")
        }
        let click = try draft.finish()
        if location != nil {
            // A stored click's line: one record, counted as a click.
            let line = click.recordLine.dropLast()[...]
            guard let parsed = SpoolLine.parse(line) else { preconditionFailure("a click line that is not a spool record") }
            precondition(SpoolLine.route(line, eventRange: parsed.eventRange) == .click && SpoolLine.routeOfLine(line) == .click,
                         "a click line not counted as a click")
        }
    } catch {
        _ = error.message
    }
    let text = String(decoding: query, as: UTF8.self)
    let verdict = TrafficClassifier.standard.classify(header: { _ in text })
    precondition(verdict.hitClass == .human || !verdict.ruleID.isEmpty, "a machine class without its rule")
    let stored = StoredQuery.cleaned(Array(query), secretNames: .default, keepsClientData: false, anonymizesAddresses: true)
    precondition(stored.count <= size + 16, "a stored query longer than the query")
    return 0
}
