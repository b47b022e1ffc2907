import Foundation
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
        let unknown = try runPixelgate(["frobnicate"], environment: [:])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown command 'frobnicate'"))
        #expect(try runPixelgate(["serve"], environment: [:]).stderr.contains("serve needs --listen"))
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
        #expect(result.status == 1)
        #expect(result.stdoutText.contains("error: PIXELGATE_MAX_PAIRS: must be a whole number from 1 to 10000, got 'lots'"))
        #expect(result.stdoutText.contains("warning: PIXELGATE_RESPNSE: unknown setting (ignored)"))
        #expect(result.stdoutText.contains("not ok"))
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
        #expect(result.status == 1)
        #expect(result.stdoutText.contains("error: PIXELGATE_CONFIG: cannot read /nonexistent/pixelgate.conf: No such file or directory"))
    }
}

/// `pixelgate sign` and signed hits through the built binary, as a template
/// author would use them.
@Suite("Signed pixel URLs, end to end")
struct SignedURLTests {
    static let keys = ["PIXELGATE_SIGNING_KEYS": "wk:0123456789abcdef-secret"]

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
        #expect(noKey.status == 1)
        #expect(noKey.stderr.contains("PIXELGATE_SIGNING_KEYS has no secret for write key 'other'"))
        let noQuery = try runPixelgate(["sign", "https://x.example/pixel/v1/page"], environment: SignedURLTests.keys)
        #expect(noQuery.status == 2)
        #expect(noQuery.stderr.contains("the URL has no query string"))
    }
}
