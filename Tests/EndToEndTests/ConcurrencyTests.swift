import Foundation
import Testing

@Suite("Many writers, one spool")
struct ConcurrencyTests {
    /// 4 FastCGI workers and 4 streams of CGI processes, 2,000 requests each,
    /// into one spool that seals every 256 KiB while they write.
    @Test func sixteenThousandLinesFromEightWriters() throws {
        let scratch = Scratch()
        let settings = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_SEAL_BYTES": "256k"]
        let server = try ServeProcess(listen: scratch.path + "/pg.sock", workers: 4, environment: settings)
        let perWriter = 2_000
        let answers = Counter()
        let client = server.client
        onThreads(8) { writer in
            for i in 0..<perWriter {
                let uri = "/pixel/v1/track?writeKey=wk&anonymousId=w\(writer)&event=e&properties.i=\(i)&properties.pad=\(String(repeating: "p", count: 100))"
                if writer < 4 {
                    if let r = try? client.get(uri), r.status == 200 { answers.add() }
                } else {
                    var env = cgiEnvironment(uri, spool: scratch.spool)
                    env["PIXELGATE_SEAL_BYTES"] = "256k"
                    if let r = try? runPixelgate(environment: env), r.stdoutText.hasSuffix("\r\n\r\nOK") { answers.add() }
                }
            }
        }
        #expect(server.stop().status == 0)
        #expect(answers.value == 8 * perWriter)

        let lines = scratch.spoolLines
        #expect(lines.count == 8 * perWriter)
        var messageIds = Set<String>()
        var perWriterSeen: [String: Set<String>] = [:]
        for line in lines {
            let event = try #require(try jsonObject(line)["event"] as? [String: Any])
            messageIds.insert(try #require(event["messageId"] as? String))
            let writer = try #require(event["anonymousId"] as? String)
            let i = try #require((event["properties"] as? [String: Any])?["i"] as? String)
            perWriterSeen[writer, default: []].insert(i)
        }
        #expect(messageIds.count == 8 * perWriter)
        #expect(perWriterSeen.count == 8)
        #expect(perWriterSeen.values.allSatisfy { $0.count == perWriter })
        let sealed = try FileManager.default.contentsOfDirectory(atPath: scratch.spool).filter { $0.hasPrefix("sealed-") }
        #expect(sealed.count >= 8)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
