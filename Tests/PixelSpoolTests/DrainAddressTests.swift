import Foundation
import Testing
import PixelCore
import PixelSystem
@testable import PixelSpool

/// One address per request (SPEC §6): RudderStack's gateway keeps one
/// client address per `/v1/batch` request (the last event's `request_ip`)
/// and its processor writes it into every event of the request. The drain
/// must therefore never mix stored addresses in one request, and must say
/// "no address" explicitly for events that were stored without one.
@Suite("Drain: one stored address per request")
struct DrainAddressTests {
    /// A record as the handler writes it: `request_ip` last.
    static func record(_ n: Int, key: String = "wk", address: String?) -> [UInt8] {
        let ip = address.map { #","request_ip":"\#($0)""# } ?? ""
        return Array(#"{"writeKey":"\#(key)","event":{"type":"page","anonymousId":"v\#(n)","messageId":"m-\#(n)","context":{"ip":"\#(address ?? "")"}\#(ip)}}"#.utf8) + [0x0A]
    }

    /// `n` events: address `i % addresses` for most, every seventh stored
    /// without an address (`""`), every eleventh with no key at all.
    static func fill(_ writer: SpoolWriter, events: Int, addresses: Int) throws -> [Int: String] {
        var stored: [Int: String] = [:]
        for n in 0..<events {
            let address: String? = n % 11 == 10 ? nil : n % 7 == 6 ? "" : "198.51.100.\(n % addresses)"
            stored[n] = address ?? ""
            try writer.append(record(n, address: address))
        }
        return stored
    }

    static func drain(_ writer: SpoolWriter, _ plane: DataPlane, windowBytes: Int = 4 << 20, parallel: Int = 0) -> DrainReport {
        var settings = DrainSettings()
        settings.maxBatchBytes = 2048
        settings.windowBytes = windowBytes
        settings.retryBaseMillis = 1
        settings.retryCapMillis = 2
        settings.giveUpAfterMillis = 0
        let drain = SpoolDrain(writer: writer, client: plane, parallelClients: Array(repeating: plane, count: parallel), settings: settings,
                               log: { _, _ in })
        // A drain lock copied into a child another test is spawning can read
        // as taken for a moment (DrainWithInMemoryDataPlaneTests.drainOnceNotBusy).
        var report = drain.runOnce()
        for _ in 0..<50 where report.busy {
            Thread.sleep(forTimeInterval: 0.02)
            report = drain.runOnce()
        }
        return report
    }

    /// What the gateway and processor make of a batch: the last event's
    /// `request_ip` where it has the key, else the sender's; written into
    /// every event. Returns each event's messageId number with the address
    /// RudderStack would store for it.
    static func asRudderStackStores(_ batch: InMemoryDataPlane.Batch, sender: String = "192.0.2.250") throws -> [(Int, String)] {
        var requestIP = sender
        var ids: [Int] = []
        for text in batch.events {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            if let value = event["request_ip"] { requestIP = value as? String ?? "" }
            let id = try #require((event["messageId"] as? String)?.dropFirst(2))
            ids.append(try #require(Int(id)))
        }
        return ids.map { ($0, requestIP) }
    }

    @Test(arguments: [1, 3, 24], [0, 3])
    func everyEventArrivesWithItsOwnAddress(addresses: Int, parallel: Int) throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        let stored = try Self.fill(writer, events: 200, addresses: addresses)
        let plane = InMemoryDataPlane()
        let report = Self.drain(writer, plane, parallel: parallel)
        #expect(report.delivered == 200 && report.stop == nil)
        var downstream: [Int: String] = [:]
        for batch in plane.delivered {
            for (id, address) in try Self.asRudderStackStores(batch) {
                #expect(downstream[id] == nil, "m-\(id) delivered twice")
                downstream[id] = address
            }
            // Nothing left for the gateway to fill in: every event has the key.
            #expect(batch.events.allSatisfy { $0.contains(#""request_ip":"#) })
        }
        let wrong = stored.filter { downstream[$0.key] != $0.value }.keys.sorted()
        #expect(wrong.isEmpty, "events whose address downstream is not the stored one: \(wrong.prefix(10))")
        #expect(spool.eventFiles.isEmpty)
    }

    /// A visitor's hits go together: with few addresses, few requests.
    @Test func aVisitorsEventsShareARequest() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        for n in 0..<30 { try writer.append(Self.record(n, address: "203.0.113.\(n % 3)")) }
        let plane = InMemoryDataPlane()
        _ = Self.drain(writer, plane)
        #expect(plane.delivered.count == 3, "\(plane.delivered.map(\.events.count))")
        // In file order within each.
        for batch in plane.delivered {
            let ids = try Self.asRudderStackStores(batch).map(\.0)
            #expect(ids == ids.sorted())
        }
    }

    /// The window's requests go out of file order; the progress journal
    /// records each as it is done, so a pass stopped (or killed) in the
    /// middle resends nothing already delivered.
    @Test(arguments: [0, 3])
    func aStoppedPassResendsNothingDelivered(parallel: Int) throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        _ = try Self.fill(writer, events: 120, addresses: 10)
        let sent = PThreadLocked(0)
        let flaky = InMemoryDataPlane { _ in
            let n = sent.withLock { $0 += 1; return $0 }
            return n <= 5 ? .delivered : .misdirected(status: 404, reason: "moved")
        }
        let first = Self.drain(writer, flaky, parallel: parallel)
        #expect(first.delivered > 0 && first.delivered < 120)
        guard case .misconfigured? = first.stop else {
            Issue.record("the pass did not stop: \(String(describing: first.stop))")
            return
        }
        let backlog = try SpoolStatus.backlog(SpoolLayout(directory: spool.path), nowMillis: 0)
        #expect(backlog.events == 120 - first.delivered, "stats counts what the journal says is done")
        let good = InMemoryDataPlane()
        let second = Self.drain(writer, good)
        #expect(second.delivered == 120 - first.delivered && second.stop == nil)
        let ids = try (flaky.delivered + good.delivered).flatMap { try Self.asRudderStackStores($0).map(\.0) }
        #expect(ids.sorted() == Array(0..<120), "each event once")
    }

    /// Windows smaller than the file: each is grouped on its own, and
    /// the progress moves from window to window.
    @Test func smallWindowsStillDeliverEachEventOnce() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        let stored = try Self.fill(writer, events: 90, addresses: 4)
        let plane = InMemoryDataPlane()
        let report = Self.drain(writer, plane, windowBytes: 1000)
        #expect(report.delivered == 90)
        var downstream: [Int: String] = [:]
        for batch in plane.delivered { for (id, address) in try Self.asRudderStackStores(batch) { downstream[id] = address } }
        #expect(downstream == stored)
    }

    /// A journal line cut short by a crash counts for nothing; one that is
    /// whole skips exactly its lines; starts that are no line's are ignored.
    @Test func theJournalIsReadAsWrittenAndDoubtResends() throws {
        let content = Array("aa\nbbb\ncccc\ndd\n".utf8)  // lines at 0, 3, 7, 12
        let read = SpoolProgress.resolve(Array("3\n+7\n+12,5,99\n+0\n+12".utf8), content: content)
        #expect(read.offset == 3)
        #expect(read.done == [7, 12], "5 is mid-line, 99 past the end, 0 before the offset, the last line torn")
        #expect(read.problem != nil)
        #expect(SpoolProgress.resolve(Array("3\n+7,12\n".utf8), content: content).problem == nil)
        #expect(SpoolProgress.resolve(Array("7".utf8), content: content) == SpoolProgress(offset: 7))
        // Old progress files (an offset alone) read as before.
        #expect(SpoolProgress.resolve(Array("12\n".utf8), content: content) == SpoolProgress(offset: 12))
    }

    @Test func aHandWrittenJournalSkipsItsLines() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        for n in 0..<4 { try writer.append(Self.record(n, address: "192.0.2.\(n)")) }
        try writer.sealIfDue(force: true)
        let sealed = try #require(spool.eventFiles.first { $0.hasPrefix("sealed-") })
        let content = Array(spool.read(sealed).utf8)
        let starts = [0] + content.indices.filter { content[$0] == 0x0A }.map { $0 + 1 }.dropLast()
        try "0\n+\(starts[2])\n+\(starts[1]),".write(toFile: spool.path + "/" + SpoolLayout.progressName(of: sealed),
                                                  atomically: true, encoding: .utf8)
        let plane = InMemoryDataPlane()
        #expect(Self.drain(writer, plane).delivered == 3)
        let ids = try plane.delivered.flatMap { try Self.asRudderStackStores($0).map(\.0) }
        #expect(ids.sorted() == [0, 1, 3])
    }

    @Test(arguments: [
        (#"{"a":1,"request_ip":"192.0.2.1"}"#, "192.0.2.1"),
        (#"{"request_ip":""}"#, ""),
        (#"{ "a" : 1 , "request_ip" : "192.0.2.1" }"#, "192.0.2.1"),
        (#"{"request_ip":"192.0.2.1","a":{"request_ip":"10.0.0.1"}}"#, "192.0.2.1"),
        (#"{"a":{"request_ip":"10.0.0.1"},"b":"x\"request_ip\":\"y"}"#, nil),
        (#"{"request_ip":"10.0.0.1","request_ip":"192.0.2.9"}"#, "192.0.2.9"),
        (#"{"a":"\",\"request_ip\":\"10.0.0.1"}"#, nil),
        (#"{"request_ip":"a\"b"}"#, #"a\"b"#),
        // Names are compared as the gateway's JSON reader decodes them.
        (#"{"request_ip":"10.0.0.1","request\u005fip":"192.0.2.9"}"#, "192.0.2.9"),
        (#"{"request\u005fip":"192.0.2.9","a":1}"#, "192.0.2.9"),
    ] as [(String, String?)])
    func theStoredAddressIsReadAsTheGatewayReadsIt(_ event: String, _ address: String?) {
        let found = SpoolLine.requestAddress(Array(event.utf8)[...])
        if let address {
            #expect(found == .string(Array(address.utf8)[...]), "\(event)")
        } else {
            #expect(found == .missing, "\(event)")
        }
        #expect(SpoolLine.requestAddress(Array(#"{"request_ip":7}"#.utf8)[...]) == .notString)
        #expect(SpoolLine.requestAddress(Array("{}".utf8)[...]) == .missing)
    }

    @Test func anEventWithoutTheKeyIsSentWithAnEmptyAddress() {
        #expect(String(decoding: BatchPlanner.withEmptyAddress(Array(#"{"a":1}"#.utf8)[...]), as: UTF8.self) == #"{"request_ip":"","a":1}"#)
        #expect(String(decoding: BatchPlanner.withEmptyAddress(Array("{ }".utf8)[...]), as: UTF8.self) == #"{"request_ip":"" }"#)
    }

    /// Halves of a refused batch are journaled as each is done, not at the
    /// end of the round: a crash during a long split resends only the part
    /// in flight.
    @Test func aRefusedBatchsHalvesAreJournaledAsTheyGo() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        for n in 0..<8 { try writer.append(Self.record(n, address: "192.0.2.1")) }
        let seenDone = PThreadLocked<[Int]>([])
        let path = spool.path
        let plane = InMemoryDataPlane { batch in
            let ids = batch.events.map { $0.contains(#""m-3""#) ? 3 : $0.contains(#""m-2""#) ? 2 : -1 }
            if ids == [2, 3] {
                // What the progress file says while this half is sent.
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                if let sealed = names.first(where: { $0.hasPrefix("sealed-") }),
                   let content = FileManager.default.contents(atPath: path + "/" + sealed),
                   let progress = FileManager.default.contents(atPath: path + "/" + SpoolLayout.progressName(of: sealed)) {
                    let read = SpoolProgress.resolve(Array(progress), content: Array(content))
                    seenDone.withLock { $0 = read.done.sorted() }
                }
            }
            return ids.contains(3) ? .refused(status: 400, answer: "bad") : .delivered
        }
        let report = Self.drain(writer, plane)
        #expect(report.delivered == 7 && report.rejected == 1)
        #expect(seenDone.withLock { $0.count } == 2, "the delivered half [m-0, m-1] was not in the progress file: \(seenDone.withLock { $0 })")
    }
}
