import Foundation
import Testing

/// Every real header set of `TrafficFixtures` (shared with the unit tests
/// through a link) sent to the built binary as plain CGI and to `serve`
/// over FastCGI, from the address it came from: each answer says the
/// class the fixture must get (`PIXELGATE_CLASS_HEADER`), and each hit is
/// stored once. Then `PIXELGATE_ADDRESS_RANGES` replaces a compiled-in
/// list, and a mistake in that file is caught.
@Suite("Real header sets end to end")
struct TrafficFixtureEndToEndTests {
    static let uri = "/pixel/v1/page?writeKey=wk&anonymousId=visitor-1"

    /// The CGI variables a web server would pass for the fixture's headers.
    static func variables(_ fixture: TrafficFixture) -> [String: String] {
        var env = ["REMOTE_ADDR": fixture.remoteAddr]
        for (name, value) in fixture.headers {
            env["HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] = value
        }
        return env
    }

    /// The class an answer's `X-Pixelgate-Class` names, before `; rule=`.
    static func answeredClass(_ text: String) -> String? {
        guard let line = text.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("X-Pixelgate-Class: ") }) else { return nil }
        return String(line.dropFirst("X-Pixelgate-Class: ".count).prefix { $0 != ";" })
    }

    @Test func everyFixtureIsClassedAsExpectedThroughCGIAndServe() throws {
        let scratch = Scratch()
        var wrong: [String] = []
        for fixture in TrafficFixtures.all {
            var env = cgiEnvironment(Self.uri, spool: scratch.spool, extra: ["PIXELGATE_CLASS_HEADER": "on"])
            env["HTTP_USER_AGENT"] = nil
            env.merge(Self.variables(fixture)) { $1 }
            let answer = try runPixelgate([], environment: env)
            if !answer.stdoutText.hasPrefix("Status: 200 OK\r\n") || Self.answeredClass(answer.stdoutText) != fixture.expected {
                wrong.append("CGI \(fixture.name): \(answer.stdoutText.prefix(200))")
            }
        }
        let port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(port)", workers: 1,
                                     environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_CLASS_HEADER": "on"])
        let client = FastCGIClient(address: .tcp("127.0.0.1", port))
        for fixture in TrafficFixtures.all {
            var params = FastCGIClient.params(Self.uri)
            params["HTTP_USER_AGENT"] = nil
            params.merge(Self.variables(fixture)) { $1 }
            let answer = try client.request(params)
            if answer.status != 200 || Self.answeredClass(answer.text) != fixture.expected {
                wrong.append("serve \(fixture.name): \(answer.text.prefix(200))")
            }
        }
        #expect(serve.stop().status == 0)
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
        // Every hit stored once: the fixtures, twice over, and nothing else.
        let lines = scratch.spoolLines
        #expect(lines.count == 2 * TrafficFixtures.all.count, "\(lines.count) stored of \(2 * TrafficFixtures.all.count) hits")
        let marked = try lines.filter { line in
            let event = try #require(try jsonObject(line)["event"] as? [String: Any])
            return (event["context"] as? [String: Any])?["traffic"] != nil
        }.count
        #expect(marked == 2 * TrafficFixtures.all.filter { $0.expected != "human" }.count)
    }

    /// An operator's newer list replaces the compiled-in one of its name,
    /// in CGI and in `serve`; `pixelgate ranges` shows which is in use.
    @Test func anOperatorsListReplacesTheCompiledOne() throws {
        let scratch = Scratch()
        let file = scratch.path + "/ranges.txt"
        try "list google-crawlers\nsource a test's own list\nversion 2026-12-07\n192.0.2.0/25\n2001:db8:77::/48\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        let tried: [(address: String, expected: String)] = [
            ("192.0.2.100", "bot; rule=google-crawler-address"), ("2001:db8:77::5", "bot; rule=google-crawler-address"),
            ("192.0.2.200", "human"),
            // The compiled-in list is replaced, not added to.
            ("66.249.90.77", "human"),
            // Other lists stay as compiled in.
            ("40.107.22.58", "bot; rule=microsoft-mail-scanner"),
        ]
        let settings = ["PIXELGATE_CLASS_HEADER": "on", "PIXELGATE_ADDRESS_RANGES": file]
        for (address, expected) in tried {
            let env = cgiEnvironment(Self.uri, spool: scratch.spool, extra: settings.merging(["REMOTE_ADDR": address, "HTTP_USER_AGENT": chrome]) { $1 })
            let answer = try runPixelgate([], environment: env)
            #expect(answer.stdoutText.contains("\r\nX-Pixelgate-Class: \(expected)\r\n"), "CGI \(address): \(answer.stdoutText)")
        }
        let port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(port)", workers: 1,
                                     environment: settings.merging(["PIXELGATE_SPOOL_DIR": scratch.spool]) { $1 })
        let client = FastCGIClient(address: .tcp("127.0.0.1", port))
        for (address, expected) in tried {
            let answer = try client.get(Self.uri, remoteAddr: address, userAgent: chrome)
            #expect(answer.text.contains("\r\nX-Pixelgate-Class: \(expected)\r\n"), "serve \(address): \(answer.text)")
        }
        #expect(serve.stop().status == 0)
        #expect(scratch.spoolLines.count == 2 * tried.count)

        let shown = try runPixelgate(["ranges"], environment: settings.merging(["PIXELGATE_SPOOL_DIR": scratch.spool]) { $1 })
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdoutText.contains("google-crawlers: 2 ranges, version 2026-12-07, from \(file)"), "\(shown.stdoutText)")
        #expect(shown.stdoutText.contains("microsoft-exchange-online-protection: 7 ranges") && shown.stdoutText.contains("compiled in"), "\(shown.stdoutText)")
    }

    /// A list no rule uses, a line that is not a range, a file others may
    /// change: `check` fails naming it, and hits answer 500, storing nothing,
    /// rather than classing by lists the operator did not mean.
    @Test(arguments: [
        ("list google-crawler\n192.0.2.0/24\n", "lists no rule uses (google-crawler)", 0o644),
        ("list google-crawlers\n192.0.2.0/33\n", "line 2: '192.0.2.0/33' is not an address range", 0o644),
        ("list google-crawlers\n10.1.2.3/8\n", "line 2: '10.1.2.3/8' is not an address range", 0o644),
        ("list google-crawlers\nsource nothing yet\n", "no range in list 'google-crawlers'", 0o644),
        ("list google-crawlers\n0.0.0.0/1\n", "list 'google-crawlers' has a range wider than /19", 0o644),
        ("list google-crawlers\n2000::/3\n", "list 'google-crawlers' has a range wider than /44", 0o644),
        ("list google-crawlers\n192.0.2.0/24\n", "writable by every user", 0o666),
    ])
    func aMistakeInTheFileIsCaught(_ text: String, _ message: String, _ mode: Int) throws {
        let scratch = Scratch()
        let file = scratch.path + "/ranges.txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(chmod(file, mode_t(mode)) == 0)
        let settings = ["PIXELGATE_ADDRESS_RANGES": file, "PIXELGATE_SPOOL_DIR": scratch.spool]
        let check = try runPixelgate(["check"], environment: settings)
        #expect(check.status != 0 && (check.stdoutText + check.stderr).contains(message), "\(check.stdoutText)\(check.stderr)")
        let hit = try runPixelgate([], environment: cgiEnvironment(Self.uri, spool: scratch.spool, extra: settings))
        #expect(hit.stdoutText.hasPrefix("Status: 500"), "\(hit.stdoutText)")
        #expect(scratch.spoolLines.isEmpty)
    }

    /// docs/traffic.md's refresh, run as written but for the downloads: a
    /// `curl` of the test's own stands in for the three companies' servers
    /// and writes files in their published formats. The lists made replace
    /// the compiled-in ones, and hits are classed by them.
    @Test func theDocumentedRefreshMakesListsHitsAreClassedBy() throws {
        let scratch = Scratch()
        let etc = scratch.path + "/etc-pixelgate", bin = scratch.path + "/bin"
        for dir in [etc, bin] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try FileManager.default.createSymbolicLink(atPath: bin + "/pixelgate", withDestinationPath: pixelgateBinary)
        let curl = #"""
        #!/bin/bash
        # Writes what the named URL publishes, in its format, to -o FILE.
        while [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac; done
        case "$url" in
          https://endpoints.office.com/endpoints/worldwide*)
            printf '[{"id":9,"serviceArea":"Exchange","urls":["*.protection.outlook.com"],"ips":["203.0.113.0/24","2001:db8:e::/48"],"required":true},{"id":46,"serviceArea":"SharePoint","ips":["192.0.2.0/24"]}]' > "$out" ;;
          */common-crawlers.json) printf '{"creationTime":"2026-12-06T10:00:00.000000","prefixes":[{"ipv4Prefix":"192.0.2.0/25"}]}' > "$out" ;;
          */special-crawlers.json) printf '{"creationTime":"2026-12-06T10:00:01.000000","prefixes":[{"ipv6Prefix":"2001:db8:9::/48"}]}' > "$out" ;;
          *) echo "curl: (6) Could not resolve host" >&2; exit 6 ;;
        esac
        """#
        try curl.write(toFile: bin + "/curl", atomically: true, encoding: .utf8)
        #expect(chmod(bin + "/curl", 0o755) == 0)
        let blocks = try #require(DocsTests.runnableBlocks()["ranges-refresh"])
        let script = blocks.map(\.text).joined(separator: "\n").replacingOccurrences(of: "/etc/pixelgate", with: etc)
        // Run by sh, without -e, as a reader pastes it, under root's
        // tightest umask: the file must still be one the web server can read.
        let environment = ["PATH": bin + ":/usr/bin:/bin", "HOME": scratch.path, "PIXELGATE_CONFIG": "none", "PIXELGATE_SPOOL_DIR": scratch.spool]
        let run = try runProcess("/bin/sh", ["-c", "umask 077; " + script], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        for list in ["microsoft-exchange-online-protection: 2 ranges", "google-crawlers: 2 ranges, version 2026-12-06T10:00:00.000000, 2026-12-06T10:00:01.000000"] {
            #expect(run.stdoutText.contains(list) && run.stdoutText.contains("from \(etc)/address-ranges.txt"), "\(list): \(run.stdoutText)")
        }
        let file = etc + "/address-ranges.txt"
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        #expect(mode == 0o644, "mode \(String(mode, radix: 8))")
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        let tried: [(address: String, agent: String, expected: String)] = [
            ("203.0.113.7", chrome, "bot; rule=microsoft-mail-scanner"), ("2001:db8:9::1", chrome, "bot; rule=google-crawler-address"),
            // The lists were replaced: the published ranges of the release are not in them.
            ("40.107.22.58", chrome, "human"), ("66.249.90.77", chrome, "human"),
        ]
        for (address, agent, expected) in tried {
            let env = cgiEnvironment(Self.uri, spool: scratch.spool, extra: [
                "PIXELGATE_ADDRESS_RANGES": file, "PIXELGATE_CLASS_HEADER": "on", "REMOTE_ADDR": address, "HTTP_USER_AGENT": agent])
            let answer = try runPixelgate([], environment: env)
            #expect(answer.stdoutText.contains("\r\nX-Pixelgate-Class: \(expected)\r\n"), "\(address): \(answer.stdoutText)")
        }
        #expect(scratch.spoolLines.count == tried.count)
        // A download that is not the published file (an error page saved
        // in its place), the first or the last: the recipe stops, and the
        // file in use stays as it was.
        let before = try String(contentsOfFile: file, encoding: .utf8)
        for broken in ["endpoints.json", "special-crawlers.json"] {
            try FileManager.default.removeItem(atPath: bin + "/curl")
            try (curl.replacingOccurrences(of: "case \"$url\" in",
                                           with: "[ \"${out##*/}\" = \(broken) ] && { echo '<html>502 Bad Gateway</html>' > \"$out\"; exit 0; }\ncase \"$url\" in"))
                .write(toFile: bin + "/curl", atomically: true, encoding: .utf8)
            #expect(chmod(bin + "/curl", 0o755) == 0)
            let failed = try runProcess("/bin/sh", ["-c", script], environment: environment)
            #expect(failed.status != 0 && failed.stderr.contains("not the JSON"), "\(broken): \(failed.stderr)")
            #expect(try String(contentsOfFile: file, encoding: .utf8) == before, "\(broken)")
            let left = try FileManager.default.contentsOfDirectory(atPath: etc).filter { $0.hasPrefix("address-ranges.txt") }
            #expect(left == ["address-ranges.txt"], "\(broken): \(left)")
        }
    }
}
