import Foundation
import PixelCore
import Testing

@Suite("pixelgate commands")
struct CommandTests {
    @Test func versionAndHelp() throws {
        let version = try runPixelgate(["--version"], environment: [:])
        #expect(version.status == 0)
        #expect(version.stdoutText.range(of: #"^pixelgate \d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
        let help = try runPixelgate(["--help"], environment: [:])
        #expect(help.status == 0)
        for word in ["serve --listen", "check", "PIXELGATE_CONFIG", "--workers"] { #expect(help.stdoutText.contains(word)) }
        let short = try runPixelgate(["-V"], environment: [:])
        #expect(short.status == 0 && short.stdoutText == version.stdoutText)
        // A slip gets one line, as git answers one: the likely command and
        // where the list is, not the whole usage.
        let unknown = try runPixelgate(["frobnicate"], environment: [:])
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "pixelgate: 'frobnicate' is not a pixelgate command. See 'pixelgate --help'.\n")
        let slip = try runPixelgate(["statz"], environment: [:])
        #expect(slip.status == 2 && slip.stdout.isEmpty)
        #expect(slip.stderr == "pixelgate: 'statz' is not a pixelgate command; did you mean 'stats'? See 'pixelgate --help'.\n")
        let option = try runPixelgate(["check", "--conect"], environment: [:])
        #expect(option.status == 2 && option.stderr.hasPrefix("pixelgate: unknown check option '--conect'; did you mean '--connect'?\n"), "\(option.stderr)")
        #expect(try runPixelgate(["serve"], environment: [:]).stderr.contains("serve needs --listen"))
    }

    /// Every subcommand with the options its `--help` must name.
    static let subcommands: [String: [String]] = [
        "serve": ["--listen ADDRESS", "--workers N", "--threads N", "--backlog N", "--socket-mode MODE"],
        "drain": ["--once", "--follow", "--interval SECONDS", "--max-seconds N"],
        "requeue": [],
        "sign": ["--expires DURATION", "--target TARGET"],
        "stats": ["--json"],
        "check": [],
    ]

    /// `CMD --help`, `CMD -h` and `help CMD` print the command's usage to
    /// stdout and exit 0, reading no settings (a bad one changes nothing).
    @Test(arguments: subcommands.keys.sorted())
    func everySubcommandHasHelp(_ command: String) throws {
        let environment = ["PIXELGATE_CONFIG": "/nonexistent/pixelgate.conf", "PIXELGATE_SPOOL_DIR": "/nonexistent/spool"]
        let help = try runPixelgate([command, "--help"], environment: environment)
        #expect(help.status == 0, "\(help.stderr)")
        #expect(help.stderr.isEmpty)
        #expect(help.stdoutText.hasPrefix("Usage: pixelgate \(command)"), "\(help.stdoutText)")
        for option in CommandTests.subcommands[command, default: []] + ["-h, --help"] {
            #expect(help.stdoutText.contains("\n  \(option)"), "\(command) --help names \(option): \(help.stdoutText)")
        }
        #expect(help.stdoutText.contains("PIXELGATE_CONFIG"))
        let short = try runPixelgate([command, "-h"], environment: environment)
        #expect(short.status == 0)
        #expect(short.stdout == help.stdout)
        let topic = try runPixelgate(["help", command], environment: environment)
        #expect(topic.status == 0)
        #expect(topic.stdout == help.stdout)
        // The global usage lists the command too.
        #expect(try runPixelgate(["--help"], environment: [:]).stdoutText.contains("  pixelgate \(command)"))
    }

    @Test func drainHelpGivesTheExitCodes() throws {
        let help = try runPixelgate(["drain", "--help"], environment: [:]).stdoutText
        for code in ["  75  ", "  78  ", "  1   ", "  2   "] { #expect(help.contains(code), "\(help)") }
        let global = try runPixelgate(["--help"], environment: [:]).stdoutText
        #expect(global.contains("Exit codes:\n"))
        #expect(global.contains("drain --once [--max-seconds N]"))
        #expect(global.contains("drain --follow [--interval SECONDS]"))
    }

    /// A usage mistake in any subcommand: exit 2, nothing on stdout, one
    /// line naming the problem and a pointer to the command's help, and
    /// nothing done (the spool is not even created).
    @Test(arguments: [
        (["serve", "--workers", "0", "--listen", "127.0.0.1:9000"], "--workers takes a number from 1 to 256"),
        (["serve", "--threads=300", "--listen", "127.0.0.1:9000"], "--threads takes a number from 1 to 256"),
        (["serve", "--listen", "127.0.0.1:9000", "--socket-mode", "0999"], "--socket-mode takes an octal mode such as 0660"),
        (["serve", "--listen", "127.0.0.1:9000", "--backlog"], "--backlog takes a positive number"),
        (["serve", "--listen"], "serve needs --listen HOST:PORT or --listen /path/to.sock"),
        (["serve", "--listen", "127.0.0.1:9000", "--verbose"], "unknown serve option '--verbose'"),
        (["serve", "--listen", "127.0.0.1:9000", "extra"], "serve takes no arguments, only options (got 'extra')"),
        (["drain"], "drain needs --once (for cron or a timer) or --follow (as a service)"),
        (["drain", "--once", "--follow"], "drain takes --once or --follow, not both"),
        (["drain", "--follow", "--interval", "0"], "--interval takes seconds, 1 to 3600"),
        (["drain", "--once", "--max-seconds", "-1"], "--max-seconds takes a number of seconds"),
        (["drain", "--once=yes"], "--once takes no value"),
        (["drain", "--now"], "unknown drain option '--now'"),
        (["requeue", "all"], "requeue takes no arguments"),
        (["requeue", "--force"], "unknown requeue option '--force'"),
        (["sign"], "sign takes one URL, or - to sign one a line from standard input"),
        (["sign", "https://a.example/pixel/v1/page?writeKey=wk", "https://b.example/pixel/v1/page?writeKey=wk"],
         "sign takes one URL, or - to sign one a line from standard input"),
        (["sign", "--expires", "soon", "https://a.example/pixel/v1/page?writeKey=wk"], "--expires takes a duration such as 30d, 12h, 45m or 3600s"),
        (["sign", "--target", "javascript:alert(1)", "https://a.example/pixel/v1/click?writeKey=wk"], "--target takes an absolute http:// or https:// URL"),
        (["stats", "--csv"], "unknown stats option '--csv'"),
        (["stats", "json"], "stats takes only options (got 'json')"),
        (["check", "--verbose"], "unknown check option '--verbose'"),
        (["check", "now"], "check takes no arguments, only options (got 'now')"),
    ])
    func usageMistakesExit2NamingTheProblem(_ arguments: [String], _ message: String) throws {
        let scratch = Scratch()
        let result = try runPixelgate(arguments, environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": "http://127.0.0.1:9/"])
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(arguments): \(result.stdoutText)")
        #expect(result.stderr == "pixelgate: \(message)\nrun 'pixelgate \(arguments[0]) --help' for its usage\n", "\(arguments)")
        #expect(!FileManager.default.fileExists(atPath: scratch.spool), "\(arguments)")
    }

    @Test func helpOfAnUnknownCommandIsAUsageError() throws {
        let result = try runPixelgate(["help", "frobnicate"], environment: [:])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("help takes one command's name"))
    }

    /// `--listen=ADDRESS` is `--listen ADDRESS`: the same checks, the same
    /// messages, the same socket.
    @Test(arguments: ["127.0.0.1:99999", "typo", ""])
    func listenWithEqualsIsListenWithASpace(_ address: String) throws {
        let scratch = Scratch()
        let environment = ["PIXELGATE_SPOOL_DIR": scratch.spool]
        let spaced = try runPixelgate(["serve", "--listen", address], environment: environment)
        let joined = try runPixelgate(["serve", "--listen=\(address)"], environment: environment)
        #expect(spaced.status == 2)
        #expect(joined.status == 2)
        #expect(joined.stderr == spaced.stderr)
        #expect(joined.stderr.hasPrefix(address.isEmpty ? "pixelgate: serve needs --listen" : "pixelgate: --listen '\(address)' is not"), "\(joined.stderr)")
    }

    @Test func serveListensOnAnAddressGivenWithEquals() throws {
        let scratch = Scratch()
        let port = freePort()
        let log = scratch.path + "/serve.log"
        let child = try ChildProcess(pixelgateBinary, ["serve", "--listen=127.0.0.1:\(port)", "--workers=1"],
                                     environment: ["PIXELGATE_SPOOL_DIR": scratch.spool], log: log)
        defer { _ = child.stop(grace: 10) }
        #expect(waitUntil { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("listening on 127.0.0.1:\(port) with 1 worker(s)") },
                "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(child.stop(grace: 10))
        #expect(child.exitCode == 0)
    }

    @Test func checkPrintsEffectiveSettingsAndSpoolState() throws {
        let scratch = Scratch()
        let result = try runPixelgate(["check"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_RESPONSE": "gif"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("PIXELGATE_SPOOL_DIR=\(scratch.spool)    (environment)"))
        #expect(result.stdoutText.contains("PIXELGATE_RESPONSE=gif    (environment)"))
        #expect(result.stdoutText.contains("PIXELGATE_SINK=spool    (default)"))
        #expect(result.stdoutText.contains("spool \(scratch.spool): writable"))
        #expect(result.stdoutText.hasSuffix("ok\n"))
        #expect(FileManager.default.fileExists(atPath: scratch.spool))
    }

    @Test func checkNamesBadSettingsAndFails() throws {
        let scratch = Scratch()
        let result = try runPixelgate(["check"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_MAX_PAIRS": "lots", "PIXELGATE_RESPNSE": "gif"])
        #expect(result.status == 78, "a setting is wrong: the configuration's exit code")
        #expect(result.stdoutText.contains("error: PIXELGATE_MAX_PAIRS: must be a whole number from 1 to 10000, got 'lots'"))
        #expect(result.stdoutText.contains("error: PIXELGATE_RESPNSE: unknown setting (ignored); did you mean PIXELGATE_RESPONSE?"))
        #expect(result.stdoutText.contains("not ok"))
    }

    /// A setting's name with a slip is a mistake `check` fails on, naming
    /// the file's line and the name meant: `PIXELGATE_WRITE_KEY` (no S)
    /// left the allow-list empty, so every write key was accepted, and
    /// `check` said ok. A hit goes on (the site must not stop) and logs it.
    @Test func aMistypedSettingNameFailsCheck() throws {
        let scratch = Scratch()
        let file = scratch.path + "/pixelgate.env"
        try "# settings\nPIXELGATE_SPOOL_DIR=\(scratch.spool)\n\nPIXELGATE_WRITE_KEY=demo-key\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(chmod(file, 0o600) == 0)
        let result = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": file])
        #expect(result.status == 78, "\(result.stdoutText)")
        #expect(result.stdoutText.contains("error: PIXELGATE_WRITE_KEY (\(file) line 4): unknown setting (ignored); did you mean PIXELGATE_WRITE_KEYS?"),
                "\(result.stdoutText)")
        #expect(result.stdoutText.contains("warning: PIXELGATE_WRITE_KEYS is empty: hits with any write key are accepted and stored\n"))
        #expect(result.stdoutText.hasSuffix("not ok: hits are answered, but a setting is wrong\n"), "\(result.stdoutText)")
        let fromEnvironment = try runPixelgate(["check"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_SINKK": "spool"])
        #expect(fromEnvironment.status == 78)
        #expect(fromEnvironment.stdoutText.contains("error: PIXELGATE_SINKK: unknown setting (ignored); did you mean PIXELGATE_SINK?"))
        let hit = try runPixelgate([], environment: cgiEnvironment("/pixel/v1/page?writeKey=any&anonymousId=a1", spool: scratch.spool,
                                                                   extra: ["PIXELGATE_CONFIG": file]))
        #expect(hit.status == 0 && hit.stdoutText.hasPrefix("Status: 200"), "\(hit.stdoutText)")
        #expect(hit.stderr.contains("configuration: PIXELGATE_WRITE_KEY (\(file) line 4): unknown setting (ignored); did you mean PIXELGATE_WRITE_KEYS?"),
                "\(hit.stderr)")
    }

    @Test func checkFailsOnAnUnusableSpool() throws {
        let scratch = Scratch()
        #expect(FileManager.default.createFile(atPath: scratch.spool, contents: Data()))
        let result = try runPixelgate(["check"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool + "/inner"])
        #expect(result.status == 1)
        #expect(result.stdoutText.contains("error: spool \(scratch.spool)/inner is not usable"))
    }

    @Test func checkReportsAnUnreadableConfigFile() throws {
        let result = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": "/nonexistent/pixelgate.conf"])
        #expect(result.status == 78)
        #expect(result.stdoutText.contains("error: PIXELGATE_CONFIG: cannot read /nonexistent/pixelgate.conf: No such file or directory"))
    }
}

/// `pixelgate sign` and signed hits through the built binary, as a template
/// author would use them.
@Suite("Signed pixel URLs, end to end")
struct SignedURLTests {
    static let keys = ["PIXELGATE_SIGNING_KEYS": "wk:0123456789abcdef-secret"]

    /// `sign` refuses what the server would refuse, in the server's words,
    /// where it printed a signed URL every hit with would answer 400.
    /// Each refusal is checked against a CGI hit with the URL signed all
    /// the same: the server does refuse it.
    @Test(arguments: [
        ("https://a.example/pixel/v1/track?writeKey=wk&anonymousId=u1", [:], "400"),
        ("https://a.example/pixel/v1/page?writeKey=wk&name=Home", [:], "400"),
        ("https://a.example/pixel/v1/page?writeKey=wk&anonymousId=u1", ["PIXELGATE_WRITE_KEYS": "other"], "40"),
        // An e-mail site answers every hit with a GIF; the refusal is still one.
        ("https://a.example/pixel/v1/track?writeKey=wk&anonymousId=u1", ["PIXELGATE_RESPONSE": "gif-always"], "400"),
    ] as [(String, [String: String], String)])
    func signRefusesAURLTheServerWouldRefuse(_ url: String, _ settings: [String: String], _ status: String) throws {
        let scratch = Scratch()
        let environment = SignedURLTests.keys.merging(settings) { $1 }
        let sign = try runPixelgate(["sign", url], environment: environment)
        #expect(sign.status == 2, "\(sign.stdoutText)")
        #expect(sign.stdout.isEmpty)
        #expect(sign.stderr.hasPrefix("pixelgate sign: pixelgate would refuse this URL: \(status)"), "\(sign.stderr)")
        // The server agrees: the same URL with a valid signature is refused.
        let query = String(url[url.range(of: "?")!.upperBound...])
        let route = url.contains("/track?") ? "track" : "page"
        let signed = "/pixel/v1/\(route)?\(query)&sig=" + PixelSignature.signature(route: route, of: Array(query.utf8), secret: "0123456789abcdef-secret")
        var asText = environment
        asText["PIXELGATE_RESPONSE"] = nil
        let hit = try runPixelgate([], environment: cgiEnvironment(signed, spool: scratch.spool, extra: asText))
        #expect(hit.stdoutText.hasPrefix("Status: \(status)"), "\(hit.stdoutText)")
        #expect(scratch.spoolLines.isEmpty)
    }

    /// `sign -` signs a template's whole list, a line each, in order; a
    /// line refused is an empty line out and its reason with its number.
    @Test func signSignsALineAtATimeFromStandardInput() throws {
        let scratch = Scratch()
        let lines = ["https://a.example/pixel/v1/page?writeKey=wk&anonymousId=u1",
                     "https://a.example/pixel/v1/track?writeKey=wk&anonymousId=u2",
                     "https://a.example/pixel/v1/track?writeKey=wk&anonymousId=u3&event=Open"]
        let input = scratch.path + "/urls.txt"
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let signed = try runProcess("/bin/sh", ["-c", "exec \"$0\" sign - < \"$1\"", pixelgateBinary, input], environment: SignedURLTests.keys)
        #expect(signed.status == 2)
        let out = signed.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(out.count == 4 && out[1].isEmpty && out[3].isEmpty, "\(signed.stdoutText)")
        #expect(signed.stderr.hasPrefix("pixelgate sign: line 2: pixelgate would refuse this URL: 400"), "\(signed.stderr)")
        for (i, line) in [(0, out[0]), (2, out[2])] {
            #expect(line.hasPrefix(lines[i] + "&sig="))
            let uri = String(line.dropFirst("https://a.example".count))
            let hit = try runPixelgate([], environment: cgiEnvironment(uri, spool: scratch.spool, extra: SignedURLTests.keys))
            #expect(hit.stdoutText.hasPrefix("Status: 200 OK\r\n"), "\(hit.stdoutText)")
        }
    }

    /// docs/email.md's Python snippet, run as written, with the secret as text
    /// and as bytes: pixelgate accepts both URLs (it raised `TypeError`
    /// for a `str` secret).
    @Test func theDocumentedPythonSignsURLsPixelgateAccepts() throws {
        let scratch = Scratch()
        let readme = try String(contentsOfFile: repositoryRoot + "/docs/email.md", encoding: .utf8)
        let start = try #require(readme.range(of: "```python\n# Python (Jinja")).upperBound
        let end = try #require(readme[start...].range(of: "```")).lowerBound
        let snippet = "# Python (Jinja" + readme[start..<end]
        let script = snippet + """
            print(signed("https://example.com", "track", {"writeKey": "wk", "anonymousId": "u é", "event": "Open"}, "0123456789abcdef-secret"))
            print(signed("https://example.com", "page", {"writeKey": "wk", "anonymousId": "u2"}, b"0123456789abcdef-secret"))
            """
        let file = scratch.path + "/snippet.py"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try runProcess("/usr/bin/python3", [file], environment: ["PATH": "/usr/bin:/bin"])
        #expect(run.status == 0, "\(run.stderr)")
        let urls = run.stdoutText.split(separator: "\n")
        #expect(urls.count == 2, "\(run.stdoutText)")
        for url in urls {
            let uri = String(url.dropFirst("https://example.com".count))
            let hit = try runPixelgate([], environment: cgiEnvironment(uri, spool: scratch.spool, extra: SignedURLTests.keys))
            #expect(hit.stdoutText.hasPrefix("Status: 200 OK\r\n"), "\(url): \(hit.stdoutText)")
        }
        #expect(scratch.spoolLines.count == 2)
    }

    @Test func signedURLsAreAcceptedAndTamperedOnesRefused() throws {
        let scratch = Scratch()
        let url = "https://shop.example/pixel/v1/track?writeKey=wk&anonymousId=u1&event=Open&properties.campaign=nov"
        let sign = try runPixelgate(["sign", url], environment: SignedURLTests.keys)
        #expect(sign.status == 0)
        let signed = sign.stdoutText.trimmingCharacters(in: .newlines)
        #expect(signed.hasPrefix(url + "&sig="))
        #expect(signed.count == url.count + 5 + 64)
        // Signing again replaces the signature rather than adding one.
        #expect(try runPixelgate(["sign", signed], environment: SignedURLTests.keys).stdoutText == sign.stdoutText)

        let uri = String(signed.dropFirst("https://shop.example".count))
        let good = try runPixelgate([], environment: cgiEnvironment(uri, spool: scratch.spool, extra: SignedURLTests.keys))
        #expect(good.stdoutText.hasPrefix("Status: 200 OK\r\n"))
        let bad = try runPixelgate([], environment: cgiEnvironment(uri.replacingOccurrences(of: "campaign=nov", with: "campaign=dec"),
                                                                    spool: scratch.spool, extra: SignedURLTests.keys))
        #expect(bad.stdoutText.hasPrefix("Status: 400 Bad Request\r\n"))
        #expect(bad.stdoutText.hasSuffix("\r\n\r\ninvalid signature"))
        let unsigned = try runPixelgate([], environment: cgiEnvironment(String(url.dropFirst("https://shop.example".count)),
                                                                         spool: scratch.spool, extra: SignedURLTests.keys))
        #expect(unsigned.stdoutText.hasSuffix("\r\n\r\ninvalid signature"))

        let lines = try String(contentsOfFile: scratch.spool + "/current.ndjson", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        #expect(!lines[0].contains("sig"))
        #expect(lines[0].contains(#""properties":{"campaign":"nov"}"#))
    }

    /// What a template hands `sign` and what a browser then sends.
    @Test func signHandlesFragmentsSpacesOldSignaturesAndExpiry() throws {
        let scratch = Scratch()
        let sign = try runPixelgate(["sign", "--expires", "30d",
                                     "https://shop.example/pixel/v1/track?writeKey=wk&sig=old&anonymousId=u 1&event=Opened mail&sig=older#top"],
                                    environment: SignedURLTests.keys)
        #expect(sign.status == 0, "\(sign.stderr)")
        let signed = sign.stdoutText.trimmingCharacters(in: .newlines)
        #expect(signed.hasSuffix("#top"))
        #expect(signed.components(separatedBy: "sig=").count == 2, "\(signed)")
        #expect(signed.contains("anonymousId=u%201&event=Opened%20mail&exp="))
        let exp = signed.components(separatedBy: "exp=").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        #expect(abs(exp - (Int(Date().timeIntervalSince1970) + 30 * 86_400)) < 60)
        // The browser drops the fragment and sends the rest as it is.
        let uri = String(signed.dropFirst("https://shop.example".count).prefix { $0 != "#" })
        let good = try runPixelgate([], environment: cgiEnvironment(uri, spool: scratch.spool, extra: SignedURLTests.keys))
        #expect(good.stdoutText.hasPrefix("Status: 200 OK\r\n"), "\(good.stdoutText)")
        #expect(scratch.spoolLines.first?.contains(#""anonymousId":"u 1""#) == true)
        // Signed for track, refused on page.
        let page = try runPixelgate([], environment: cgiEnvironment(uri.replacingOccurrences(of: "/pixel/v1/track", with: "/pixel/v1/page"),
                                                                     spool: scratch.spool, extra: SignedURLTests.keys))
        #expect(page.stdoutText.hasSuffix("\r\n\r\ninvalid signature"))
        #expect(try runPixelgate(["sign", "--help"], environment: [:]).status == 0)
        #expect(try runPixelgate(["sign", "https://x.example/other?writeKey=wk"], environment: SignedURLTests.keys).status == 2)
    }

    @Test func signExplainsWhatIsMissing() throws {
        let noKey = try runPixelgate(["sign", "https://x.example/pixel/v1/page?writeKey=other&anonymousId=a"], environment: SignedURLTests.keys)
        #expect(noKey.status == 78)
        #expect(noKey.stderr.contains("PIXELGATE_SIGNING_KEYS has no secret for write key 'other'"))
        let noQuery = try runPixelgate(["sign", "https://x.example/pixel/v1/page"], environment: SignedURLTests.keys)
        #expect(noQuery.status == 2)
        #expect(noQuery.stderr.contains("the URL has no query string"))
    }
}
