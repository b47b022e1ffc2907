import Foundation
import Testing

/// Settings are trusted only where nobody but their owner (or root) can
/// change them (issue 26): each finding of the review of f5d6bae, played
/// with real accounts, and each obeyed there.
@Suite("Whose settings are trusted")
struct SettingsTrustTests {
    static let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    static func hit(_ env: [String: String], as account: [String]? = nil) throws -> ProcessResult {
        if let account {
            return try runProcess(account[0], Array(account.dropFirst()) + [pixelgateBinary], environment: env)
        }
        return try runPixelgate(environment: env)
    }

    /// Accounts sharing a primary group (a `users` group, Plesk's `psacln`,
    /// a panel's umask 002): a settings file the group may write was
    /// trusted when the group was the account's own, so another account
    /// rewrote where its events went. nogroup is shared by nobody and
    /// other system accounts here.
    @Test func aFileItsSharedGroupMayWriteIsRefused() throws {
        let scratch = Scratch()
        let home = scratch.path + "/nobody"
        try FileManager.default.createDirectory(atPath: home + "/spool", withIntermediateDirectories: true)
        let settings = home + "/pixelgate.env"
        try Data("PIXELGATE_SPOOL_DIR=\(home)/spool\n".utf8).write(to: URL(fileURLWithPath: settings))
        for path in [home, home + "/spool", settings] { chown(path, 65534, 65534) }
        chmod(home + "/spool", 0o700)
        chmod(settings, 0o664)
        var env = cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=a", spool: "")
        env["PIXELGATE_SPOOL_DIR"] = nil
        env["PIXELGATE_CONFIG"] = settings
        let refused = try Self.hit(env, as: Self.asNobody)
        #expect(refused.stdoutText.hasPrefix("Status: 500"), "\(refused.stdoutText)")
        #expect(refused.stderr.contains("writable by group nogroup, whose other members could change it; chmod g-w it"), "\(refused.stderr)")
        chmod(settings, 0o644)
        #expect(try Self.hit(env, as: Self.asNobody).stdoutText.hasSuffix("OK"))
    }

    /// A relative PIXELGATE_CONFIG skipped the checks of the directories
    /// on its way: a file in a directory every user may write was read.
    @Test func aRelativeNameIsCheckedAsTheAbsoluteOne() throws {
        let scratch = Scratch()
        let open = scratch.path + "/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
        chmod(open, 0o777)
        try Data("PIXELGATE_SPOOL_DIR=\(scratch.spool)\n".utf8).write(to: URL(fileURLWithPath: open + "/pixelgate.env"))
        let env = ["PIXELGATE_CONFIG": "pixelgate.env"]
        let result = try runProcess("/bin/sh", ["-c", "cd \"$1\" && exec \"$0\" check", pixelgateBinary, open], environment: env)
        #expect(result.status == 78, "\(result.stdoutText)")
        #expect(result.stdoutText.contains("every user may write to \(open) on its way"), "\(result.stdoutText)")
    }

    /// A link another account planted in a sticky directory, pointing at
    /// settings of root's choosing: it was followed. A final link is now
    /// followed only when root or the running user made it.
    @Test func aLinkAnotherAccountPlantedIsNotFollowed() throws {
        let scratch = Scratch()
        let sticky = scratch.path + "/sticky"
        try FileManager.default.createDirectory(atPath: sticky, withIntermediateDirectories: true)
        chmod(sticky, 0o1777)
        let real = scratch.path + "/real.env"
        try Data("PIXELGATE_SPOOL_DIR=\(scratch.spool)\n".utf8).write(to: URL(fileURLWithPath: real))
        let link = sticky + "/pixelgate.env"
        #expect(try runProcess(Self.asNobody[0], Array(Self.asNobody.dropFirst()) + ["/bin/ln", "-s", real, link], environment: [:]).status == 0)
        let check = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": link])
        #expect(check.status == 78)
        #expect(check.stdoutText.contains("a link owned by nobody, who could point it at other settings"), "\(check.stdoutText)")
    }

    /// A settings file with signing secrets that every user may read (the
    /// shared-hosting steps left it 0644): anyone on the host could sign
    /// links. `check` fails with the fix; hits go on, each warning.
    @Test func signingSecretsEveryoneMayReadFailCheckAndWarnHits() throws {
        let scratch = Scratch()
        let settings = scratch.path + "/pixelgate.env"
        try Data("PIXELGATE_SPOOL_DIR=\(scratch.spool)\nPIXELGATE_SIGNING_KEYS=wk:0123456789abcdef0123\n".utf8)
            .write(to: URL(fileURLWithPath: settings))
        chmod(settings, 0o644)
        var env = cgiEnvironment("/pixel/v1/page?writeKey=other&anonymousId=a", spool: scratch.spool)
        env["PIXELGATE_SPOOL_DIR"] = nil
        env["PIXELGATE_CONFIG"] = settings
        let check = try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": settings])
        #expect(check.status == 78)
        #expect(check.stdoutText.contains("holds signing secrets and every user may read it (mode 0644)") && check.stdoutText.contains("chmod o-r \(settings)"),
                "\(check.stdoutText)")
        let hit = try runPixelgate(environment: env)
        #expect(hit.stdoutText.hasSuffix("OK"))
        #expect(hit.stderr.contains("holds signing secrets and every user may read it"), "\(hit.stderr)")
        chmod(settings, 0o640)
        #expect(try runPixelgate(["check"], environment: ["PIXELGATE_CONFIG": settings]).status == 0)
    }
}
