import Foundation
import Testing

/// Real Apache with the shipped snippets (only their placeholders set).
@Suite("Behind Apache")
struct ApacheTests {
    /// The binary copied where the snippets' placeholder directory points,
    /// as a deployment would install it.
    func installBinary(_ scratch: Scratch) throws -> String {
        let dir = scratch.path + "/lib"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try copyExecutable(pixelgateBinary, to: dir + "/pixelgate")
        return dir
    }

    /// A hit just under the configuration's limit reaches pixelgate whole;
    /// one over 16 KiB gets a 414 (pixelgate's own where it reaches pixelgate).
    func expectLongHits(_ port: Int, accepted: Int, pixelgateAnswers414: Bool) throws {
        let base = "http://127.0.0.1:\(port)/pixel/v1/page?writeKey=wk&anonymousId=long&p="
        let ok = try httpRequest(base + String(repeating: "x", count: accepted))
        #expect(ok.status == 200, "a \(accepted)-byte value: \(ok.status) \(ok.text.prefix(200))")
        let long = try httpRequest(base + String(repeating: "x", count: 17_000))
        #expect(long.status == 414)
        if pixelgateAnswers414 { #expect(long.text == "query string too long") }
    }

    @Test func modCgid() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let port = freePort()
        let snippet = try shippedConfig("apache-conf/pixelgate-cgi.conf", [("/usr/local/lib/pixelgate", try installBinary(scratch)), ("/var/spool/pixelgate", spool)])
        let apache = try startApache(snippet: snippet, port: port, in: scratch.path + "/apache")
        try explainingFailures(log: scratch.path + "/apache/error.log") { try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool) }
        try expectLongHits(port, accepted: 8_000, pixelgateAnswers414: false)
        // Any prefix reaches it too.
        #expect(try httpRequest("http://127.0.0.1:\(port)/collect/pixel/v1/page?writeKey=wk&anonymousId=x").status == 200)
        apache.stop()
    }

    @Test func modCgiWithPrefork() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let port = freePort()
        let snippet = try shippedConfig("apache-conf/pixelgate-cgi.conf", [("/usr/local/lib/pixelgate", try installBinary(scratch)), ("/var/spool/pixelgate", spool)])
        let apache = try startApache(snippet: snippet, port: port, in: scratch.path + "/apache", preforkWithModCGI: true)
        try explainingFailures(log: scratch.path + "/apache/error.log") { try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool) }
        try expectLongHits(port, accepted: 8_000, pixelgateAnswers414: false)
        apache.stop()
    }

    @Test func modFcgid() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let port = freePort()
        let snippet = try shippedConfig("apache-conf/pixelgate-fcgid.conf", [("/usr/local/lib/pixelgate", try installBinary(scratch)), ("/var/spool/pixelgate", spool)])
        let apache = try startApache(snippet: snippet, port: port, in: scratch.path + "/apache")
        try explainingFailures(log: scratch.path + "/apache/error.log") { try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool) }
        try expectLongHits(port, accepted: 16_000, pixelgateAnswers414: true)
        // mod_fcgid keeps the processes: many hits, few processes started.
        for i in 0..<50 {
            #expect(try httpRequest("http://127.0.0.1:\(port)/pixel/v1/page?writeKey=wk&anonymousId=v\(i)").status == 200)
        }
        apache.stop()
        #expect(scratch.spoolLines.count == 53)
    }

    @Test func modProxyFcgiOverTCP() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 2, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let snippet = try shippedConfig("apache-conf/pixelgate-proxy-fcgi.conf", [(shippedSocket + "|fcgi://localhost/", "fcgi://127.0.0.1:\(backend)/")])
        let apache = try startApache(snippet: snippet, port: port, in: scratch.path + "/apache")
        try explainingFailures(log: scratch.path + "/apache/error.log") { try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool) }
        try expectLongHits(port, accepted: 16_000, pixelgateAnswers414: false)
        apache.stop()
        #expect(serve.stop().status == 0)
    }

    @Test func modProxyFcgiOverUnixSocket() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let port = freePort()
        let socketPath = scratch.path + "/pixelgate.sock"
        let serve = try ServeProcess(listen: socketPath, workers: 2, environment: ["PIXELGATE_SPOOL_DIR": spool], socketGroup: "www-data")
        let snippet = try shippedConfig("apache-conf/pixelgate-proxy-fcgi.conf", [(shippedSocket, "unix:" + socketPath)])
        let apache = try startApache(snippet: snippet, port: port, in: scratch.path + "/apache")
        try explainingFailures(log: scratch.path + "/apache/error.log") { try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool) }
        apache.stop()
        #expect(serve.stop().status == 0)
    }
}
