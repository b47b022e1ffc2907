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
