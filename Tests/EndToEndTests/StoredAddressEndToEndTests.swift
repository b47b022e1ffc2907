import Foundation
import Testing

/// Hits from many visitors, drained into the stand-in data plane that
/// applies RudderStack's rule (one address per `/v1/batch` request, the
/// last event's `request_ip`, written by the processor into every event):
/// each event arrives downstream with its own hit's address, and one
/// stored without an address arrives with none (issue 24).
@Suite("Each hit's own address downstream")
struct StoredAddressEndToEndTests {
    static let addresses: [String] = (0..<20).map { "198.51.100.\($0 * 7 + 3)" }
        + ["2001:db8:1:2::7", "2001:db8:ff::1", "2002:cb00:714d::1", "203.0.113.250"]

    /// One CGI hit; every seventh asks not to be tracked (stored without an address).
    static func hit(_ n: Int, scratch: Scratch, extraQuery: String = "") throws {
        let query = "writeKey=wk&anonymousId=visitor-\(n)&event=Open&properties.n=\(n)" + extraQuery
        var extra = ["REMOTE_ADDR": addresses[n % addresses.count], "PIXELGATE_CONSENT": "anonymize"]
        if asksNotToBeTracked(n) { extra["HTTP_DNT"] = "1" }
        let result = try runPixelgate([], environment: cgiEnvironment("/pixel/v1/track?" + query, spool: scratch.spool, extra: extra))
        let head = String(decoding: result.stdout.prefix(40), as: UTF8.self)
        guard head.hasPrefix("Status: 200") else { throw TestFailure("hit \(n): \(head) \(result.stderr)") }
    }

    static func asksNotToBeTracked(_ n: Int) -> Bool { n % 7 == 5 }

    /// What the spool holds for each visitor: (request_ip, context.ip or nil).
    static func stored(_ scratch: Scratch) throws -> [String: (String, String?)] {
        var out: [String: (String, String?)] = [:]
        for line in scratch.spoolLines {
            let event = try #require(try jsonObject(line)["event"] as? [String: Any])
            let context = event["context"] as? [String: Any]
            out[try #require(event["anonymousId"] as? String)] = (try #require(event["request_ip"] as? String), context?["ip"] as? String)
        }
        return out
    }

    @Test func aDrainedBatchGivesEveryVisitorTheirOwnAddress() throws {
        let scratch = Scratch()
        let hits = 96
        for n in 0..<hits {
            // A page cannot choose the address downstream trusts.
            try Self.hit(n, scratch: scratch, extraQuery: n == 7 ? "&context.ip=8.8.8.8" : "")
        }
        let stored = try Self.stored(scratch)
        #expect(stored.count == hits)
        #expect(Set(stored.values.map(\.0)).count == Self.addresses.count + 1, "24 addresses and the empty one")
        #expect(stored["visitor-7"]?.1 == Self.addresses[7], "an unsigned query's context.ip reached the spool")
        #expect(stored.filter { $0.value.0.isEmpty }.count == (0..<hits).filter(Self.asksNotToBeTracked).count)
        #expect(stored.allSatisfy { $0.value.0.isEmpty ? $0.value.1 == nil : $0.value.1 == $0.value.0 })

        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let drain = try runPixelgate(["drain", "--once", "--max-seconds", "60"],
                                     environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": receiver.url])
        #expect(drain.status == 0, "\(drain.stderr)")
        let received = try receiver.received()
        // Counted: every hit in is delivered, exactly once, and nothing is kept.
        #expect(received.count == hits, "in \(hits), delivered \(received.count)")
        var wrong: [String] = []
        for (_, event) in received {
            let id = event["anonymousId"] as? String ?? "?"
            guard let (requestIP, contextIP) = stored[id] else { wrong.append("\(id) was never stored"); continue }
            let downstream = event["request_ip"] as? String
            let context = (event["context"] as? [String: Any])?["ip"] as? String
            if downstream != requestIP || context != contextIP {
                wrong.append("\(id): stored \(requestIP)/\(contextIP ?? "-"), downstream \(downstream ?? "nil")/\(context ?? "-")")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) events downstream with another's address: \(wrong.prefix(5))")
        #expect(Set(received.compactMap { $0.event["anonymousId"] as? String }).count == hits)
        // Every request held one stored address (or none): as many as there are.
        let requests = receiver.requests().filter { $0["status"] as? Int == 200 }
        #expect(Set(requests.compactMap { $0["requestIP"] as? String }).count == Self.addresses.count + 1)
        #expect(scratch.spoolLines.isEmpty && !FileManager.default.fileExists(atPath: scratch.spool + "/rejected/upstream.ndjson"))
    }

    /// Forwarding sends one event a request: a visitor stored without an
    /// address reaches RudderStack with none, not the forwarder's.
    @Test func aForwardedHitWithoutAnAddressStaysWithout() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        for n in [4, 5] {
            let extra = ["REMOTE_ADDR": Self.addresses[n], "PIXELGATE_CONSENT": "anonymize", "PIXELGATE_SINK": "forward",
                         "PIXELGATE_DATA_PLANE_URL": receiver.url].merging(n == 5 ? ["HTTP_DNT": "1"] : [:]) { $1 }
            let result = try runPixelgate([], environment: cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=f\(n)",
                                                                          spool: scratch.spool, extra: extra))
            #expect(String(decoding: result.stdout.prefix(12), as: UTF8.self) == "Status: 200 ", "\(result.stderr)")
        }
        let received = try receiver.received()
        #expect(received.count == 2 && scratch.spoolLines.isEmpty)
        let byID = Dictionary(uniqueKeysWithValues: received.map { ($0.event["anonymousId"] as? String ?? "", $0.event) })
        #expect(byID["f4"]?["request_ip"] as? String == Self.addresses[4])
        #expect(byID["f5"]?["request_ip"] as? String == "", "the forwarder's own address was filled in")
    }

    /// What a visitor asked to hide stays hidden, through the real binary:
    /// the IPv4 inside a 6to4 address, a DNT visitor's address in the log
    /// under `drop`, and secrets under names the old default list missed.
    @Test func whatAVisitorAskedToHideStaysHidden() throws {
        let scratch = Scratch()
        var result = try runPixelgate([], environment: cgiEnvironment(
            "/pixel/v1/page?writeKey=wk&anonymousId=six&properties.passwd=hunter2&properties.sessionid=S3SS&properties.private_key=PK"
                + "&properties.access_key=AK&properties.credentials=CR&properties.pwd=PW&properties.plan=pro",
            spool: scratch.spool, extra: ["REMOTE_ADDR": "2002:cb00:714d::1", "PIXELGATE_ANONYMIZE_IP": "on"]))
        #expect(String(decoding: result.stdout.prefix(12), as: UTF8.self) == "Status: 200 ", "\(result.stderr)")
        let line = try #require(scratch.spoolLines.first)
        // 203.0.113.77 is cb00:714d; its last octet must go (cb00:7100).
        #expect(line.contains(#""request_ip":"2002:cb00:7100::""#) && !line.lowercased().contains("714d"), "\(line)")
        #expect(line.contains("pro"))
        for secret in ["hunter2", "S3SS", "PK", "AK", "CR", "PW"] { #expect(!line.contains("\"\(secret)\""), "\(secret) stored: \(line)") }
        #expect(!result.stderr.contains("714d") && !result.stderr.contains("hunter2"))

        result = try runPixelgate([], environment: cgiEnvironment("/pixel/v1/page?writeKey=wk", spool: scratch.spool,
                                                                  extra: ["REMOTE_ADDR": "192.0.2.55", "HTTP_DNT": "1", "PIXELGATE_CONSENT": "drop"]))
        #expect(String(decoding: result.stdout.prefix(12), as: UTF8.self) == "Status: 400 ")
        #expect(result.stderr.contains("refused page hit") && result.stderr.contains("ip=-"), "\(result.stderr)")
        #expect(!result.stderr.contains("192.0.2"), "a visitor who asked not to be tracked left an address: \(result.stderr)")
    }
}
