import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Hostile and broken input through the built binary (issue #6): each case
/// with the exact answer, and nothing stored for a refusal.
@Suite("Bad input, end to end")
struct BadInputTests {
    /// status, then body, of one CGI hit on `query`.
    static func hit(_ query: String, route: String = "/pixel/v1/page", extra: [String: String] = [:], scratch: Scratch) throws -> (Int, String) {
        let result = try runPixelgate(environment: cgiEnvironment(route + "?" + query, spool: scratch.spool, extra: extra))
        let text = result.stdoutText
        guard let statusLine = text.split(separator: "\r\n").first, statusLine.hasPrefix("Status: "),
              let status = Int(statusLine.dropFirst(8).prefix(3)),
              let blank = text.range(of: "\r\n\r\n") else { throw TestFailure("not a CGI answer: \(text)") }
        return (status, String(text[blank.upperBound...]))
    }

    static let wide = ["PIXELGATE_MAX_QUERY_BYTES": "131072", "PIXELGATE_MAX_KEY_BYTES": "4096"]

    @Test(arguments: [
        // Limits (SPEC §2), each answered without building anything large.
        (String(repeating: "a", count: 100_000), [:], 414, "query string too long"),
        ("writeKey=wk&anonymousId=a&" + String(repeating: "x=1&", count: 10_000), wide, 400, "more than 256 parameters"),
        ("writeKey=wk&anonymousId=a&" + Array(repeating: "a", count: 1000).joined(separator: ".") + "=x", [:], 400,
         "parameter name longer than 256 bytes: '" + String(Array(repeating: "a", count: 1000).joined(separator: ".").prefix(64)) + "…'"),
        ("writeKey=wk&anonymousId=a&" + Array(repeating: "a", count: 1000).joined(separator: ".") + "=x", wide, 400,
         "parameter name '" + String(Array(repeating: "a", count: 1000).joined(separator: ".").prefix(64)) + "…' has more than 16 segments"),
        ("writeKey=wk&anonymousId=a&properties.a.99999999=x", [:], 400,
         "array index 99999999 over the limit 255 in parameter 'properties.a.99999999'"),
        ("writeKey=wk&anonymousId=a&properties.a.99999999999999999999999=x", [:], 400,
         "array index 99999999999999999999999 over the limit 255 in parameter 'properties.a.99999999999999999999999'"),
        // Every kind of malformed escape, in values and in names.
        ("writeKey=wk&anonymousId=a&x=%", [:], 400, "invalid percent-encoding in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%4", [:], 400, "invalid percent-encoding in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%zz", [:], 400, "invalid percent-encoding in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%G1", [:], 400, "invalid percent-encoding in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%%41", [:], 400, "invalid percent-encoding in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=ab%4", [:], 400, "invalid percent-encoding in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&%zz=1", [:], 400, "invalid percent-encoding in parameter name '%zz'"),
        ("writeKey=wk&anonymousId=a&a%=1", [:], 400, "invalid percent-encoding in parameter name 'a%'"),
        // Invalid and overlong UTF-8.
        ("writeKey=wk&anonymousId=a&x=%FF", [:], 400, "invalid UTF-8 in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%C0%80", [:], 400, "invalid UTF-8 in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%E0%80%AF", [:], 400, "invalid UTF-8 in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%ED%A0%80", [:], 400, "invalid UTF-8 in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%F4%90%80%80", [:], 400, "invalid UTF-8 in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&x=%E2%82", [:], 400, "invalid UTF-8 in parameter 'x'"),
        ("writeKey=wk&anonymousId=a&%C3=1", [:], 400, "invalid UTF-8 in parameter name '%C3'"),
        // NUL and other control bytes in names.
        ("writeKey=wk&anonymousId=a&a%00b=1", [:], 400, "control character in parameter name 'a?b'"),
        ("writeKey=wk&anonymousId=a&a%0D%0AX-Injected:%201=1", [:], 400, "control character in parameter name 'a??X-Injected: 1'"),
        // Required parameters, odd write keys.
        ("", [:], 400, "missing required parameter: writeKey"),
        ("&&&", [:], 400, "missing required parameter: writeKey"),
        ("writeKey=&anonymousId=a", [:], 400, "missing required parameter: writeKey"),
        ("writeKey.x=wk&anonymousId=a", [:], 400, "missing required parameter: writeKey"),
        ("writeKey=wk&anonymousId=%22%22", [:], 400, "missing required parameter: anonymousId"),
        ("writeKey=wk&anonymousId.x=a", [:], 400, "missing required parameter: anonymousId"),
    ] as [(String, [String: String], Int, String)])
    func refusedWithTheExactAnswer(_ query: String, _ extra: [String: String], _ status: Int, _ body: String) throws {
        let scratch = Scratch()
        let (gotStatus, gotBody) = try BadInputTests.hit(query, extra: extra, scratch: scratch)
        #expect(gotStatus == status)
        #expect(gotBody == body)
        #expect(scratch.spoolLines.isEmpty)
        // The refusal is kept, with at most 4 KiB of the query.
        let rejected = try String(contentsOfFile: scratch.spool + "/rejected/hits.ndjson", encoding: .utf8)
        let record = try jsonObject(String(rejected.split(separator: "\n")[0]))
        #expect(record["reason"] as? String == body)
        #expect((record["query"] as? String)?.utf8.count ?? .max <= 4096 * 3)
    }

    @Test func valuesWithControlBytesQuotesAndBackslashesStayInsideTheJSON() throws {
        let scratch = Scratch()
        let query = "writeKey=w%22k%5C%0A&anonymousId=a&x=%0D%0ASet-Cookie:%20evil=1&q=%22%5C%22&nul=%00&tab=%09&emoji=%F0%9F%98%80"
        let result = try runPixelgate(environment: cgiEnvironment("/pixel/v1/page?" + query, spool: scratch.spool))
        // Values never reach the answer: its headers are the usual ones.
        #expect(result.stdoutText == "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\(CGITests.noCache)Content-Length: 2\r\n\r\nOK")
        let lines = scratch.spoolLines
        #expect(lines.count == 1)
        let record = try jsonObject(lines[0])
        #expect(record["writeKey"] as? String == "w\"k\\\n")
        let event = try #require(record["event"] as? [String: Any])
        #expect(event["x"] as? String == "\r\nSet-Cookie: evil=1")
        #expect(event["q"] as? String == "\"\\\"")
        #expect(event["nul"] as? String == "\u{0}")
        #expect(event["tab"] as? String == "\t")
        #expect(event["emoji"] as? String == "😀")
    }

    @Test func namesThatCollideEveryWay() throws {
        let scratch = Scratch()
        let (status, _) = try BadInputTests.hit("writeKey=wk&anonymousId=a&a=1&a.b=2&a=3&a.b.c=4&writeKey=other&l.0=x&l.k=y&m.k=y&m.0=x",
                                                scratch: scratch)
        #expect(status == 200)
        let record = try jsonObject(scratch.spoolLines[0])
        #expect(record["writeKey"] as? String == "wk")  // the first of repeated names counts
        let event = try #require(record["event"] as? [String: Any])
        #expect((event["a"] as? [String: Any])?["b"] as? [String: String] == ["c": "4"])
        #expect(event["l"] as? [String: String] == ["k": "y"])  // an array replaced by an object
        #expect(event["m"] as? [String: String] == ["k": "y", "0": "x"])  // a digit key under an object
    }

    @Test func missingCGIVariables() throws {
        let scratch = Scratch()
        var env = cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=from-uri", spool: scratch.spool)
        env["QUERY_STRING"] = nil
        #expect(try runPixelgate(environment: env).stdoutText.hasSuffix("\r\n\r\nOK"))
        env = cgiEnvironment("/x", spool: scratch.spool)
        env["REQUEST_URI"] = nil
        env["SCRIPT_NAME"] = "/cgi-bin/pixelgate"
        env["PATH_INFO"] = "/pixel/v1/page"
        env["QUERY_STRING"] = "writeKey=wk&anonymousId=from-path-info"
        #expect(try runPixelgate(environment: env).stdoutText.hasSuffix("\r\n\r\nOK"))
        env["REQUEST_METHOD"] = nil
        let noMethod = try runPixelgate(environment: env).stdoutText
        #expect(noMethod.hasPrefix("Status: 405 Method Not Allowed\r\n"))
        #expect(noMethod.contains("Allow: GET, HEAD\r\n"))
        let ids = try scratch.spoolLines.map { (try jsonObject($0)["event"] as? [String: Any])?["anonymousId"] as? String }
        #expect(ids == ["from-uri", "from-path-info"])
    }
}

/// Faults in the spool: the answer is 503 with a log line, no partial line
/// is left, and service resumes by itself once the fault is gone.
@Suite("Spool faults, end to end")
struct SpoolFaultTests {
    static let hitQuery = "writeKey=wk&anonymousId=fault&properties.pad=" + String(repeating: "p", count: 300)

    static func hit(_ scratch: Scratch, spool: String, launcher: [String] = [], binary: String = pixelgateBinary) throws -> ProcessResult {
        let env = cgiEnvironment("/pixel/v1/page?" + hitQuery, spool: spool)
        if launcher.isEmpty { return try runProcess(binary, [], environment: env) }
        return try runProcess(launcher[0], Array(launcher.dropFirst()) + [binary], environment: env)
    }

    static func expect503(_ result: ProcessResult, logMentions: String) {
        #expect(result.stdoutText.hasPrefix("Status: 503 Service Unavailable\r\n"))
        #expect(result.stdoutText.contains("Retry-After: 10\r\n"))
        #expect(result.stdoutText.hasSuffix("\r\n\r\nevent not stored, try again later"))
        #expect(result.stderr.contains("event not stored"))
        #expect(result.stderr.contains(logMentions), "\(result.stderr)")
    }

    /// Every line in every spool file is a complete record.
    static func expectOnlyWholeLines(_ spool: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: spool) where name.hasSuffix(".ndjson") {
            let data = try Data(contentsOf: URL(fileURLWithPath: spool + "/" + name))
            #expect(data.isEmpty || data.last == 0x0A, "\(name) ends in a partial line")
            for line in data.split(separator: 0x0A) { _ = try jsonObject(String(decoding: line, as: UTF8.self)) }
        }
    }

    @Test func anUnusableSpoolPathAnswers503() throws {
        let scratch = Scratch()
        // A file where the spool directory should be.
        FileManager.default.createFile(atPath: scratch.path + "/file", contents: Data("x".utf8))
        SpoolFaultTests.expect503(try SpoolFaultTests.hit(scratch, spool: scratch.path + "/file/spool"), logMentions: "Not a directory")
        // A missing directory is created on the first hit.
        #expect(try SpoolFaultTests.hit(scratch, spool: scratch.path + "/new/spool").stdoutText.hasSuffix("\r\n\r\nOK"))
    }

    @Test func aSpoolOwnedBySomeoneElseAnswers503UntilItIsFixed() throws {
        let scratch = Scratch()
        // pixelgate runs as nobody, as a web server's CGI would; root owns the spool.
        let binary = try binaryOtherUsersCanRun(scratch)
        mkdir(scratch.spool, 0o755)
        let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        SpoolFaultTests.expect503(try SpoolFaultTests.hit(scratch, spool: scratch.spool, launcher: asNobody, binary: binary),
                                  logMentions: "Permission denied")
        // Read-only for everyone: still refused.
        chmod(scratch.spool, 0o555)
        SpoolFaultTests.expect503(try SpoolFaultTests.hit(scratch, spool: scratch.spool, launcher: asNobody, binary: binary),
                                  logMentions: "Permission denied")
        // Fixed: the next hit is stored, with no restart.
        chown(scratch.spool, 65534, 65534)
        chmod(scratch.spool, 0o755)
        #expect(try SpoolFaultTests.hit(scratch, spool: scratch.spool, launcher: asNobody, binary: binary).stdoutText.hasSuffix("\r\n\r\nOK"))
        #expect(scratch.spoolLines.count == 1)
    }

    @Test func aFullDiskAnswers503AndLeavesNoPartialLine() throws {
        let scratch = Scratch()
        // A real full filesystem: a 64 KiB tmpfs.
        try withTmpfs(scratch, size: "64k") { mountPoint in
            let spool = mountPoint + "/spool"
            var stored = 0
            var refused: ProcessResult?
            for _ in 0..<400 {
                let result = try SpoolFaultTests.hit(scratch, spool: spool)
                if result.stdoutText.hasSuffix("\r\n\r\nOK") { stored += 1 } else { refused = result; break }
            }
            let full = try #require(refused, "the tmpfs never filled up")
            SpoolFaultTests.expect503(full, logMentions: "No space left on device")
            try SpoolFaultTests.expectOnlyWholeLines(spool)
            let lines = try String(contentsOfFile: spool + "/current.ndjson", encoding: .utf8).split(separator: "\n").count
            #expect(lines == stored)
            // The operator can count what the full disk cost: one 503.
            let stats = try jsonObject(try runPixelgate(["stats", "--json"], environment: ["PIXELGATE_SPOOL_DIR": spool]).stdoutText)
            #expect(stats["unstored"] as? [String: Int] == ["unavailable": 1, "misconfigured": 0], "\(stats)")
            // Room again: the next hit is stored.
            try Data().write(to: URL(fileURLWithPath: spool + "/current.ndjson"))
            #expect(try SpoolFaultTests.hit(scratch, spool: spool).stdoutText.hasSuffix("\r\n\r\nOK"))
        }
    }

    /// ThreadSanitizer's own runtime faults (SIGBUS) in a process started
    /// under RLIMIT_FSIZE, before pixelgate runs; the plain and ASan passes
    /// cover this.
    @Test(.disabled(if: ProcessInfo.processInfo.environment["PIXELGATE_SANITIZER"] == "thread",
                    "TSan's runtime faults under RLIMIT_FSIZE; checked in the plain and ASan passes"))
    func aFileSizeLimitAnswers503AndLeavesNoPartialLine() throws {
        // A file-size limit (RLIMIT_FSIZE, as shared hosts set): the write
        // stops short, and the partial line is taken back.
        let scratch = Scratch()
        let spool = scratch.spool
        #expect(try SpoolFaultTests.hit(scratch, spool: spool).stdoutText.hasSuffix("\r\n\r\nOK"))
        let size = try FileManager.default.attributesOfItem(atPath: spool + "/current.ndjson")[.size] as? Int ?? 0
        let limitBlocks = (size + 1024) / 512 + 1  // room for most of one more line, not all of it
        let limited = ["/bin/sh", "-c", "ulimit -f \(limitBlocks); exec \"$0\""]
        var last: ProcessResult?
        for _ in 0..<4 {
            last = try SpoolFaultTests.hit(scratch, spool: spool, launcher: limited)
            if last?.stdoutText.hasPrefix("Status: 503") == true { break }
        }
        SpoolFaultTests.expect503(try #require(last), logMentions: "File too large")
        try SpoolFaultTests.expectOnlyWholeLines(spool)
        #expect(try SpoolFaultTests.hit(scratch, spool: spool).stdoutText.hasSuffix("\r\n\r\nOK"))
        try SpoolFaultTests.expectOnlyWholeLines(spool)
    }
}

/// The write-key allow-list holds in every way pixelgate runs.
@Suite("Write-key allow-list in every mode")
struct AllowListTests {
    static let refusedQuery = "/pixel/v1/page?writeKey=intruder&anonymousId=a"
    static let acceptedQuery = "/pixel/v1/page?writeKey=good&anonymousId=a"

    @Test func cgiFastCGIAndForwardingAllRefuseOtherKeys() throws {
        let scratch = Scratch()
        let settings = ["PIXELGATE_WRITE_KEYS": "good, also-good"]
        // Plain CGI.
        let cgi = try runPixelgate(environment: cgiEnvironment(AllowListTests.refusedQuery, spool: scratch.spool, extra: settings))
        #expect(cgi.stdoutText.hasSuffix("\r\n\r\ninvalid write key"))
        // FastCGI (`serve`).
        var environment = settings
        environment["PIXELGATE_SPOOL_DIR"] = scratch.spool
        let serve = try ServeProcess(listen: scratch.path + "/fcgi.sock", workers: 1, environment: environment)
        #expect(try serve.client.get(AllowListTests.refusedQuery).body == "invalid write key")
        #expect(try serve.client.get(AllowListTests.acceptedQuery).status == 200)
        #expect(serve.stop().status == 0)
        // Forwarding: a refused key never reaches the data plane.
        let receiver = DataPlaneReceiver(dir: scratch.path + "/receiver", keys: ["good", "intruder"])
        try receiver.start()
        defer { receiver.stop() }
        var forward = settings
        forward["PIXELGATE_SINK"] = "forward"
        forward["PIXELGATE_DATA_PLANE_URL"] = receiver.url
        let refused = try runPixelgate(environment: cgiEnvironment(AllowListTests.refusedQuery, spool: scratch.spool, extra: forward))
        #expect(refused.stdoutText.hasSuffix("\r\n\r\ninvalid write key"))
        let accepted = try runPixelgate(environment: cgiEnvironment(AllowListTests.acceptedQuery, spool: scratch.spool, extra: forward))
        #expect(accepted.stdoutText.hasSuffix("\r\n\r\nOK"))
        #expect(try receiver.received().map(\.writeKey) == ["good"])
        // Only the FastCGI hit with the good key was spooled.
        #expect(scratch.spoolLines.count == 1)
    }
}
