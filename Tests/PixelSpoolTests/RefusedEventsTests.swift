import Foundation
import Testing
import PixelCore
@testable import PixelSpool

@Suite("What the drain keeps and how it resumes (SPEC §6, §7)")
struct RefusedEventsTests {
    static let event = Array(#"{"type":"track","anonymousId":"a","event":"e","messageId":"m-1"}"#.utf8)

    @Test func aRefusedEventsRecordIsASpoolLineWithTheAnswer() throws {
        let record = RejectedRecord.refusedEvent(writeKey: "w\"k", event: RefusedEventsTests.event[...], status: 400,
                                                 answer: "request neither has anonymousId nor userId", atMillis: 0)
        #expect(record.last == 0x0A)
        let parsed = try #require(SpoolLine.parse(record.dropLast()))
        #expect(parsed.writeKey == "w\"k")
        #expect(Array(record[parsed.eventRange]) == RefusedEventsTests.event)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record)) as? [String: Any])
        let note = try #require(object["rejected"] as? [String: Any])
        #expect(note["status"] as? String == "400")
        #expect(note["answer"] as? String == "request neither has anonymousId nor userId")
        #expect(note["at"] as? String == "1970-01-01T00:00:00.000Z")
    }

    @Test func setAsideBytesAreKeptWhole() throws {
        let long = Array(repeating: UInt8(ascii: "x"), count: 200_000)
        let text = RejectedRecord.setAside(long[...], reason: "not a spool record", file: "f", atMillis: 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
        #expect((object["bytes"] as? String)?.utf8.count == 200_000)
        let binary: [UInt8] = [0xFF, 0x00, 0x41, 0xC3]
        let record = RejectedRecord.setAside(binary[...], reason: "r", file: "f", atMillis: 0)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(record)) as? [String: Any])
        #expect(Data(base64Encoded: decoded["base64"] as? String ?? "") == Data(binary))
    }

    /// The cap is for refused hits, which anyone can send; what the drain
    /// keeps is never dropped to make room.
    @Test func onlyRefusedHitsAreCapped() throws {
        let spool = TempSpool()
        var settings = SpoolSettings()
        settings.rejectedMaxBytes = 0
        let writer = SpoolWriter(directory: spool.path, settings: settings)
        #expect(try writer.appendRejected(line(1)) == false)
        #expect(try writer.appendRejected(line(2), file: SpoolLayout.rejectedUpstreamName))
        #expect(try writer.appendRejected(line(3), file: SpoolLayout.setAsideName))
        #expect(spool.read("rejected/upstream.ndjson") == #"{"n":2,"pad":""}"# + "\n")
        #expect(spool.read("rejected/unreadable.ndjson") == #"{"n":3,"pad":""}"# + "\n")
        #expect(spool.read("rejected/hits.ndjson").isEmpty)
    }

    @Test func requeueMovesRefusedEventsBackOnce() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        #expect(try writer.requeueRefused() == nil)
        let records = (0..<3).flatMap { n in
            RejectedRecord.refusedEvent(writeKey: "wk", event: Array(#"{"n":\#(n)}"#.utf8)[...], status: 400, answer: "no", atMillis: 0)
        }
        _ = try writer.appendRejected(records, file: SpoolLayout.rejectedUpstreamName)
        let (sealed, events) = try #require(try writer.requeueRefused())
        #expect(SpoolLayout.isSealed(sealed))
        #expect(events == 3)
        #expect(spool.read(sealed).utf8.count == records.count)
        #expect(!FileManager.default.fileExists(atPath: spool.path + "/rejected/upstream.ndjson"))
        #expect(try writer.requeueRefused() == nil)
    }

    /// A pass that died between keeping a refusal and saving its progress
    /// meets the same refusal again: the record's origin tells it is kept.
    @Test func keptRecordsNameWhereTheyCameFrom() {
        let tricky = Array(#"{"a":{"rejected":{"from":"fake:1"}}}"#.utf8)
        let records = RejectedRecord.refusedEvent(writeKey: "wk", event: tricky[...], status: 400, answer: "no", atMillis: 0,
                                                  from: "sealed-x.ndjson:120")
            + RejectedRecord.refusedEvent(writeKey: "wk", event: RefusedEventsTests.event[...], status: 400, answer: "no", atMillis: 0,
                                          from: "sealed-x.ndjson:0")
            + RejectedRecord.refusedEvent(writeKey: "wk", event: RefusedEventsTests.event[...], status: 400, answer: "no", atMillis: 0)
        #expect(RejectedRecord.origins(records) == ["sealed-x.ndjson:120", "sealed-x.ndjson:0"])
    }

    /// Records written before refused events were kept as spool lines are
    /// upgraded when requeued, so the drain can send them.
    @Test func requeueUpgradesRecordsOfOlderVersions() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        let old = #"{"rejectedAt":"2026-11-27T10:00:00.000Z","status":"400","answer":"bad","line":"{\"writeKey\":\"wk\",\"event\":{\"type\":\"track\",\"anonymousId\":\"a\"}}"}"#
        let current = RejectedRecord.refusedEvent(writeKey: "wk", event: RefusedEventsTests.event[...], status: 400, answer: "no", atMillis: 0)
        _ = try writer.appendRejected(Array((old + "\n").utf8) + current, file: SpoolLayout.rejectedUpstreamName)
        let (sealed, _) = try #require(try writer.requeueRefused())
        let lines = spool.read(sealed).split(separator: "\n").map { Array($0.utf8) }
        #expect(lines.count == 2)
        let upgraded = try #require(SpoolLine.parse(lines[0][...]))
        #expect(String(decoding: lines[0][upgraded.eventRange], as: UTF8.self) == #"{"type":"track","anonymousId":"a"}"#)
        #expect(String(decoding: lines[0], as: UTF8.self).hasSuffix(#""rejected":{"at":"2026-11-27T10:00:00.000Z","status":"400","answer":"bad"}}"#))
        #expect(lines[1] + [0x0A] == current)
    }

    /// A writer killed mid-record leaves a torn tail; the next record must
    /// start on a line of its own.
    @Test func aTornRecordDoesNotSwallowTheNext() throws {
        let spool = TempSpool()
        let writer = SpoolWriter(directory: spool.path)
        _ = try writer.appendRejected(line(1), file: SpoolLayout.rejectedUpstreamName)
        let handle = try #require(FileHandle(forWritingAtPath: spool.path + "/rejected/upstream.ndjson"))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"writeKey":"wk","ev"#.utf8))
        try handle.close()
        _ = try writer.appendRejected(line(2), file: SpoolLayout.rejectedUpstreamName)
        #expect(spool.read("rejected/upstream.ndjson") == #"{"n":1,"pad":""}"# + "\n" + #"{"n":2,"pad":""}"# + "\n")
    }

    static let content = Array("aaaa\nbbbb\ncccc\n".utf8)

    @Test(arguments: [
        (nil, 0, false), ("0\n", 0, false), ("5\n", 5, false), ("15\n", 15, false), ("10", 10, false),
        ("-40\n", 0, true), ("16\n", 0, true), ("99999999999999999999\n", 0, true), ("x\n", 0, true), ("\n", 0, true),
        ("7\n", 5, true), ("14\n", 10, true), ("1\n", 0, true), ("+5\n", 0, true), (" 5\n", 0, true),
    ] as [(String?, Int, Bool)])
    func progressResolvesTowardSendingAgain(_ c: (String?, Int, Bool)) {
        let resolved = SpoolProgress.resolve(c.0.map { Array($0.utf8) }, content: RefusedEventsTests.content)
        #expect(resolved.offset == c.1, "\(String(describing: c.0))")
        #expect((resolved.problem != nil) == c.2, "\(String(describing: c.0))")
    }

    /// What each answer means for a batch (SPEC §6).
    @Test(arguments: [
        (200, "wk", "delivered"), (204, "wk", "delivered"), (408, "wk", "retry"), (429, "wk", "retry"), (500, "wk", "retry"),
        (503, "wk", "retry"), (301, "wk", "misdirected"), (302, "wk", "misdirected"), (307, "wk", "misdirected"),
        (308, "wk", "misdirected"), (404, "wk", "misdirected"), (405, "wk", "misdirected"),
        (401, "listed", "misdirected"), (403, "listed", "misdirected"), (401, "wk", "refused"), (403, "wk", "refused"),
        (400, "listed", "refused"), (413, "wk", "refused"), (422, "wk", "refused"),
    ])
    func answersAreClassified(_ c: (Int, String, String)) throws {
        let client = try DataPlaneClient(dataPlaneURL: "http://127.0.0.1:9", timeoutMillis: 100, listedWriteKeys: ["listed"])
        let result = client.classify(status: c.0, answer: "answer", writeKey: c.1, location: "https://elsewhere/", retryAfter: nil)
        if c.0 == 400 {
            // A web server's error page in front of the data plane is no verdict on the events.
            let page = "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>"
            guard case .misdirected = client.classify(status: 400, answer: page, writeKey: c.1, location: nil, retryAfter: nil) else {
                Issue.record("an HTML 400 was taken for a refusal")
                return
            }
        }
        let kind: String
        switch result {
        case .delivered: kind = "delivered"
        case .retry: kind = "retry"
        case .refused: kind = "refused"
        case .misdirected(_, let reason):
            kind = "misdirected"
            #expect(reason.contains("PIXELGATE_"), "\(reason)")
        }
        #expect(kind == c.2, "HTTP \(c.0) for \(c.1)")
    }
}

/// Which of libcurl's errors are the URL's fault (the drain stops, 78) and
/// which a moment's (it retries): a handshake reset by a restarting load
/// balancer is retried; TLS spoken to a plain-HTTP port is not.
@Suite struct TransportErrorTests {
    @Test(arguments: [
        (35, "OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number", true),
        (35, "error:1408F10B:SSL routines:ssl3_get_record:wrong version number", true),
        (35, "gnutls_handshake() failed: An unexpected TLS packet was received.", true),
        (35, "OpenSSL SSL_connect: Connection reset by peer in connection to dp.example.com:443", false),
        (35, "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to dp.example.com:443", false),
        (60, "SSL certificate problem: self-signed certificate", true),
        (7, "Failed to connect to 127.0.0.1 port 9: Connection refused", false),
        (28, "Operation timed out after 10000 milliseconds", false),
    ] as [(Int, String, Bool)])
    func handshakeErrorsAreTheURLsFaultOnlyWhenTheyCannotPass(_ code: Int, _ message: String, _ isConfiguration: Bool) {
        #expect(DataPlaneClient.isConfigurationError(code, message) == isConfiguration)
    }
}

