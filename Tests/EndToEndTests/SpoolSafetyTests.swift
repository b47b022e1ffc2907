import Foundation
import Testing

/// The spool belongs to its user (SPEC §7a): nothing is read or written
/// through a planted link, an unsafe directory is refused, and what
/// pixelgate creates is private whatever the umask.
@Suite("The spool belongs to its user (SPEC §7a)")
struct SpoolSafetyTests {
    static func hit(_ spool: String, _ query: String = "writeKey=wk&anonymousId=a&event=Open", launcher: [String] = [],
                    binary: String = pixelgateBinary, extra: [String: String] = [:]) throws -> ProcessResult {
        let env = cgiEnvironment("/pixel/v1/track?" + query, spool: spool, extra: extra)
        if launcher.isEmpty { return try runProcess(binary, [], environment: env) }
        return try runProcess(launcher[0], Array(launcher.dropFirst()) + [binary], environment: env)
    }

    /// A root-only file someone would like pixelgate to write or copy.
    static func victim(_ scratch: Scratch) throws -> String {
        let path = scratch.path + "/victim"
        try Data("root's secret\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        return path
    }

    static func unchanged(_ victim: String) -> Bool {
        (try? String(contentsOfFile: victim, encoding: .utf8)) == "root's secret\n"
    }

    @Test(arguments: ["current.ndjson", ".lock"])
    func aHitNeverWritesThroughAPlantedLink(_ name: String) throws {
        let scratch = Scratch()
        let victim = try SpoolSafetyTests.victim(scratch)
        mkdir(scratch.spool, 0o700)
        symlink(victim, scratch.spool + "/" + name)
        let result = try SpoolSafetyTests.hit(scratch.spool)
        #expect(result.stdoutText.hasPrefix("Status: 503"), "\(result.stdoutText)")
        #expect(result.stderr.contains("Too many levels of symbolic links"), "\(result.stderr)")
        #expect(SpoolSafetyTests.unchanged(victim))
    }

    @Test func aRefusedHitIsNotRecordedThroughALinkedRejectedDirectory() throws {
        let scratch = Scratch()
        let elsewhere = scratch.path + "/elsewhere"
        mkdir(scratch.spool, 0o700)
        mkdir(elsewhere, 0o700)
        symlink(elsewhere, scratch.spool + "/rejected")
        let result = try SpoolSafetyTests.hit(scratch.spool, "writeKey=wk")
        #expect(result.stdoutText.hasPrefix("Status: 400"))
        #expect(result.stderr.contains("not a directory"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    /// The drain as root: a planted progress temporary must not truncate a
    /// root file, and a planted "sealed" link must not be sent or copied.
    @Test func theDrainNeitherTruncatesNorSendsThroughPlantedLinks() throws {
        let scratch = Scratch()
        let victim = try SpoolSafetyTests.victim(scratch)
        _ = try SpoolSafetyTests.hit(scratch.spool)
        _ = try SpoolSafetyTests.hit(scratch.spool, "writeKey=wk&anonymousId=b&event=Open")
        let sealed = "sealed-20260101T000000.000000000Z-1-00000000.ndjson"
        try FileManager.default.moveItem(atPath: scratch.spool + "/current.ndjson", toPath: scratch.spool + "/" + sealed)
        symlink(victim, scratch.spool + "/." + sealed + ".progress.tmp")
        symlink(victim, scratch.spool + "/sealed-20250101T000000.000000000Z-1-00000000.ndjson")
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let drain = try runPixelgate(["drain", "--once"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": receiver.url])
        #expect(drain.status == 0, "\(drain.stderr)")
        #expect(drain.stderr.contains("is a symbolic link, not a spool file: skipped"), "\(drain.stderr)")
        #expect(SpoolSafetyTests.unchanged(victim))
        #expect(try receiver.received().count == 2)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: scratch.spool + "/rejected")) ?? []).isEmpty)
    }

    enum Unsafe: String, CaseIterable, Sendable {
        case ownedBySomeoneElse, writableByOthers, aSymbolicLink
        /// Others may write (not sticky) to a directory on the spool's path,
        /// or it is another user's: either could swap the checked spool for
        /// a link.
        case inADirectoryOthersMayWrite, inAnotherUsersDirectory
        /// A link on the way that another user owns: they could re-point
        /// it once the spool is checked, whoever owns its target.
        case throughAnotherUsersLink
        /// A link named with a trailing slash (which `lstat` follows).
        case aSymbolicLinkWithATrailingSlash
        /// The root directory itself.
        case theRootDirectory
    }

    /// A spool another user could have made or can write is refused: 500
    /// with the path and the fix in the log, and `check` fails.
    @Test(arguments: Unsafe.allCases)
    func anUnsafeSpoolDirectoryIsRefused(_ kind: Unsafe) throws {
        let scratch = Scratch()
        var spool = scratch.spool
        mkdir(scratch.spool, 0o700)
        var madeNothingIn = scratch.spool
        switch kind {
        case .ownedBySomeoneElse:
            chown(scratch.spool, 65534, 65534)
            chmod(scratch.spool, 0o777)
        case .writableByOthers:
            chmod(scratch.spool, 0o777)
        case .aSymbolicLink:
            spool = scratch.path + "/link"
            symlink(scratch.spool, spool)
        case .inADirectoryOthersMayWrite, .inAnotherUsersDirectory:
            let parent = scratch.path + "/parent"
            mkdir(parent, 0o755)
            if kind == .inADirectoryOthersMayWrite { chmod(parent, 0o777) } else { chown(parent, 65534, 65534) }
            spool = parent + "/spool"
            mkdir(spool, 0o700)
            madeNothingIn = spool
        case .throughAnotherUsersLink:
            let real = scratch.path + "/real"
            mkdir(real, 0o755)
            mkdir(real + "/spool", 0o700)
            symlink(real, scratch.path + "/theirs")
            lchown(scratch.path + "/theirs", 65534, 65534)
            spool = scratch.path + "/theirs/spool"
            madeNothingIn = real + "/spool"
        case .aSymbolicLinkWithATrailingSlash:
            spool = scratch.path + "/link/"
            symlink(scratch.spool, scratch.path + "/link")
        case .theRootDirectory:
            spool = "/"
        }
        let result = try SpoolSafetyTests.hit(spool)
        #expect(result.stdoutText.hasPrefix("Status: 500"), "\(result.stdoutText)")
        #expect(result.stdoutText.hasSuffix("\r\n\r\nserver misconfigured"))
        let named = spool.count > 1 && spool.hasSuffix("/") ? String(spool.dropLast()) : spool
        #expect(result.stderr.contains("refusing spool directory \(named)"), "\(result.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: madeNothingIn)) ?? []).isEmpty)
        let check = try runPixelgate(["check"], environment: ["PIXELGATE_SPOOL_DIR": spool])
        #expect(check.status == 1)
        #expect(check.stdoutText.contains("refusing spool directory"), "\(check.stdoutText)")
    }

    /// Under umask 022 a new spool used to be 0755 with 0644 files: every
    /// local user could read visitors' addresses and write keys.
    @Test func whatPixelgateCreatesIsPrivateWhateverTheUmask() throws {
        let scratch = Scratch()
        let result = try runProcess("/bin/sh", ["-c", "umask 022; exec \"$0\"", pixelgateBinary],
                                    environment: cgiEnvironment("/pixel/v1/track?writeKey=wk", spool: scratch.spool))
        #expect(result.stdoutText.hasPrefix("Status: 400"))  // refused: a rejected/ record too
        _ = try runProcess("/bin/sh", ["-c", "umask 022; exec \"$0\"", pixelgateBinary],
                           environment: cgiEnvironment("/pixel/v1/track?writeKey=wk&anonymousId=a&event=E", spool: scratch.spool))
        #expect(mode(scratch.spool) == 0o700)
        #expect(mode(scratch.spool + "/rejected") == 0o700)
        for name in ["current.ndjson", ".lock", "rejected/hits.ndjson"] {
            #expect(mode(scratch.spool + "/" + name) == 0o600, "\(name)")
        }
    }

    /// README's set-up: root owns the spool and the web server's group
    /// shares it (set-group-ID, 2770). `check` run as root first used to
    /// leave a root-owned 0644 `.lock` that made every hit answer 503.
    @Test func checkAsRootLeavesNothingTheWebServerCannotUse() throws {
        let scratch = Scratch()
        let binary = try binaryOtherUsersCanRun(scratch)
        mkdir(scratch.spool, 0o700)
        chown(scratch.spool, 0, 33)
        chmod(scratch.spool, 0o2770)
        let check = try runProcess("/bin/sh", ["-c", "umask 022; exec \"$0\" check", binary], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(check.status == 0, "\(check.stdoutText)")
        #expect(check.stdoutText.contains("shared with group 33"), "\(check.stdoutText)")
        let asWebServer = ["/usr/bin/setpriv", "--reuid=33", "--regid=33", "--init-groups"]
        let result = try SpoolSafetyTests.hit(scratch.spool, launcher: asWebServer, binary: binary)
        #expect(result.stdoutText.hasSuffix("\r\n\r\nOK"), "\(result.stdoutText) \(result.stderr)")
        #expect(mode(scratch.spool + "/.lock") == 0o660)
        #expect(mode(scratch.spool + "/current.ndjson") == 0o660)
        #expect(group(scratch.spool + "/.lock") == 33 && group(scratch.spool + "/current.ndjson") == 33)
    }

    /// With no `PIXELGATE_SPOOL_DIR` the spool used to be `/var/tmp/pixelgate`,
    /// which any local user could make first, world-writable and full of
    /// links. Now it is under the user's own home; a user without a
    /// private home (Debian's www-data: /var/www is root's) is refused with
    /// the fix, and nothing is made anywhere else.
    @Test func theDefaultSpoolIsOneNoOtherUserCanMakeFirst() throws {
        let scratch = Scratch()
        let binary = try binaryOtherUsersCanRun(scratch)
        // The machine's own /var/tmp/pixelgate, if any, is set aside and
        // put back afterwards.
        let oldDefault = "/var/tmp/pixelgate"
        let aside = oldDefault + ".test-aside-" + UUID().uuidString.prefix(8)
        let hadOne = rename(oldDefault, aside) == 0
        defer {
            try? FileManager.default.removeItem(atPath: oldDefault)
            if hadOne { rename(aside, oldDefault) }
        }
        mkdir(oldDefault, 0o777)
        chmod(oldDefault, 0o777)
        chown(oldDefault, 65534, 65534)
        let before = (try? FileManager.default.contentsOfDirectory(atPath: oldDefault)) ?? []

        try withLocalUser(home: scratch.path + "/home") { uid in
            var env = cgiEnvironment("/pixel/v1/track?writeKey=wk&anonymousId=a&event=Open", spool: "")
            env["PIXELGATE_SPOOL_DIR"] = nil
            let asUser = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", binary]
            let hit = try runProcess("/usr/bin/setpriv", asUser, environment: env)
            #expect(hit.stdoutText.hasSuffix("\r\n\r\nOK"), "\(hit.stdoutText) \(hit.stderr)")
            let spool = scratch.path + "/home/.local/state/pixelgate"
            #expect(mode(spool) == 0o700)
            #expect(mode(spool + "/current.ndjson") == 0o600)
            let line = (try? String(contentsOfFile: spool + "/current.ndjson", encoding: .utf8)) ?? ""
            #expect(line.contains(#""event":"Open""#), "\(line)")
            let check = try runProcess("/usr/bin/setpriv", asUser + ["check"], environment: [:])
            #expect(check.status == 0 && check.stdoutText.contains("PIXELGATE_SPOOL_DIR=\(spool)    (default)"), "\(check.stdoutText)")
            #expect(!check.stdoutText.contains("events remain"))

            // An upgrade strands nothing: events this user left in the former
            // default are pointed out, to it and to root.
            chown(oldDefault, uid_t(uid), 65534)
            chmod(oldDefault, 0o700)
            mkdir(oldDefault + "/rejected", 0o700)
            try Data("{}\n".utf8).write(to: URL(fileURLWithPath: oldDefault + "/rejected/upstream.ndjson"))
            chown(oldDefault + "/rejected", uid_t(uid), 65534)
            let name = String(cString: try #require(getpwuid(uid_t(uid))).pointee.pw_name)
            let told = try runProcess("/usr/bin/setpriv", asUser + ["check"], environment: [:])
            #expect(told.stdoutText.contains("warning: events remain in /var/tmp/pixelgate (\(name)'s)"), "\(told.stdoutText)")
            let rootCheck = try runPixelgate(["check"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
            #expect(rootCheck.stdoutText.contains("warning: events remain in /var/tmp/pixelgate (\(name)'s)"), "\(rootCheck.stdoutText)")
            try? FileManager.default.removeItem(atPath: oldDefault + "/rejected")
            chown(oldDefault, 65534, 65534)
            chmod(oldDefault, 0o777)
        }

        var env = cgiEnvironment("/pixel/v1/track?writeKey=wk&anonymousId=a&event=Open", spool: "")
        env["PIXELGATE_SPOOL_DIR"] = nil
        let asWebServer = ["--reuid=33", "--regid=33", "--clear-groups", binary]
        let hit = try runProcess("/usr/bin/setpriv", asWebServer, environment: env)
        #expect(hit.stdoutText.hasPrefix("Status: 500"), "\(hit.stdoutText)")
        #expect(hit.stderr.contains("PIXELGATE_SPOOL_DIR: not set, and www-data's home directory"), "\(hit.stderr)")
        let check = try runProcess("/usr/bin/setpriv", asWebServer + ["check"], environment: [:])
        // A setting missing is the configuration's fault: exit 78.
        #expect(check.status == 78 && check.stdoutText.contains("install -d -m 2770"), "\(check.stdoutText)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: oldDefault)) ?? []) == before)
    }

    /// A spool the web server's user owns is its own: root (a drain or
    /// `check` by hand) refuses it rather than trust another user's
    /// directory, and so leaves nothing in it.
    @Test func rootRefusesASpoolOwnedByTheWebServerUser() throws {
        let scratch = Scratch()
        mkdir(scratch.spool, 0o700)
        chown(scratch.spool, 33, 33)
        let check = try runPixelgate(["check"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(check.status == 1)
        #expect(check.stdoutText.contains("neither this user (uid 0) nor root"), "\(check.stdoutText)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: scratch.spool)) ?? []).isEmpty)
    }
}

func mode(_ path: String) -> Int {
    var st = stat()
    guard lstat(path, &st) == 0 else { return -1 }
    return Int(st.st_mode & 0o7777)
}

func group(_ path: String) -> Int {
    var st = stat()
    guard lstat(path, &st) == 0 else { return -1 }
    return Int(st.st_gid)
}

let localUsers = NSLock()

/// Runs `body` with a local user made for it (a passwd entry whose home is
/// `home`, made 0700 and owned by it), removed afterwards. Needs root, as
/// the tests run in CI.
func withLocalUser<T>(home: String, group: Int? = nil, _ body: (Int) throws -> T) throws -> T {
    let name = "pgtest-" + UUID().uuidString.prefix(8).lowercased()
    var args = ["--no-create-home", "--home-dir", home, "--shell", "/usr/sbin/nologin", "--no-user-group", "--gid", "65534"]
    if let group { args += ["--groups", String(group)] }
    // useradd and userdel lock /etc/passwd and give up when another holds
    // it: the tests that run at once take turns.
    let made = try localUsers.withLock { try runProcess("/usr/sbin/useradd", args + [name]) }
    guard made.status == 0 else { throw TestFailure("useradd \(name): \(made.stderr)") }
    defer { _ = localUsers.withLock { try? runProcess("/usr/sbin/userdel", [name]) } }
    guard let entry = getpwnam(name) else { throw TestFailure("no passwd entry for \(name)") }
    let uid = Int(entry.pointee.pw_uid)
    mkdir(home, 0o700)
    chown(home, uid_t(uid), 65534)
    chmod((home as NSString).deletingLastPathComponent, 0o755)
    return try body(uid)
}
