import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// docs/shared-hosting.md, played as a cPanel-style account would: the
/// guide's commands run as written (its `runnable` blocks) in the account's
/// home, the one edit it asks for made to the settings file, the shipped
/// crontab line, Apache running the account's CGI
/// as the account's own user with no `PIXELGATE_*` variable (as suEXEC
/// does) and only the overrides shared hosts grant, an upgrade in place
/// between hits, and the cron line run twice at once as cron runs it.
@Suite("Shared hosting from upload to delivery")
struct SharedHostingTests {
    /// The command part of the shipped crontab line (after the five time
    /// fields), with the data plane placeholder set.
    static func cronCommand() throws -> String {
        let text = try shippedConfig("apache-conf/shared-hosting/crontab", [])
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard lines.count == 1 else { throw TestFailure("the crontab should hold one line, has \(lines.count)") }
        let fields = lines[0].split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count == 6 else { throw TestFailure("not a crontab line: \(lines[0])") }
        return String(fields[5])
    }

    @Test func uploadHitsUpgradeAndTheCronDrainDeliverEveryEventOnce() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        defer { receiver.stop() }
        let home = scratch.path + "/home"

        try withLocalUser(home: home) { uid in
            let user = String(cString: try #require(getpwuid(uid_t(uid))).pointee.pw_name)
            let asUser = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=65534", "--clear-groups"]
            // The upload, in the account's home; the web root the host made.
            let tarball = try DistTests().tarball()
            let name = (tarball as NSString).lastPathComponent
            #expect(name == "pixelgate-0.1.0-linux-x86_64.tar.gz", "the guide's step 1 names pixelgate-0.1.0-linux-x86_64.tar.gz; the tarball is \(name)")
            // What the account does in a shell in its home, as itself.
            func run(_ script: String) throws -> ProcessResult {
                try runProcess(asUser[0], Array(asUser.dropFirst()) + ["/bin/sh", "-c", "set -e; cd \"$HOME\"\n" + script],
                               environment: ["HOME": home, "PATH": "/usr/bin:/bin"])
            }
            try FileManager.default.copyItem(atPath: tarball, toPath: home + "/" + name)
            chown(home + "/" + name, uid_t(uid), 65534)
            let hosted = try run("mkdir ~/public_html")
            #expect(hosted.status == 0, "\(hosted.stderr)")
            let guide = try DocsTests.runnableBlocks()
            let install = try #require(guide["shared-hosting-install"]).map(\.text)
            #expect(install.count == 3, "the guide's steps 1 to 3 are \(install.count) blocks")

            // 1. and 2. Unpack, the settings file in place.
            for step in install.prefix(2) {
                let done = try run(step)
                #expect(done.status == 0, "\(step): \(done.stderr)")
            }
            // The edit step 2 asks for: the data plane URL and the write key.
            let settings = home + "/.config/pixelgate/pixelgate.conf"
            let edited = try String(contentsOfFile: settings, encoding: .utf8)
                .replacingOccurrences(of: "PIXELGATE_DATA_PLANE_URL=https://YOUR-DATA-PLANE.example.com", with: "PIXELGATE_DATA_PLANE_URL=" + receiver.url)
                .replacingOccurrences(of: "\nPIXELGATE_WRITE_KEYS=\n", with: "\nPIXELGATE_WRITE_KEYS=wk\n")
            try edited.write(toFile: settings, atomically: false, encoding: .utf8)
            #expect(edited.contains("PIXELGATE_WRITE_KEYS=wk\n") && edited.contains(receiver.url), "the shipped file's placeholders moved: \(edited)")
            #expect(mode(settings) == 0o600)
            // 3. The program and the .htaccess in the web root.
            if let step = install.last {
                let done = try run(step)
                #expect(done.status == 0, "\(step): \(done.stderr)")
            }
            chmod(home, 0o711)  // the web server enters it, as on cPanel

            // 2. The site: Apache runs the account's CGI as the account.
            let port = freePort()
            let apache = try startApache(snippet: "# nothing: the site has only its .htaccess\n", port: port, in: scratch.path + "/apache",
                                         documentRoot: home + "/public_html", allowOverride: "FileInfo Options=ExecCGI,SymLinksIfOwnerMatch",
                                         user: user, group: "nogroup")
            defer { apache.stop() }
            var sent: [String] = []
            func hits(_ tag: String, _ count: Int) throws {
                for i in 0..<count {
                    let id = "account-\(tag)\(i)"
                    let answer = try httpRequest("http://127.0.0.1:\(port)/pixel/v1/track?writeKey=wk&anonymousId=\(id)&event=Open")
                    #expect(answer.status == 200 && answer.text == "OK", "\(answer.status) \(answer.text)")
                    sent.append(id)
                }
            }
            let spool = home + "/.local/state/pixelgate"
            // What each hit records, through this set-up (two hits).
            try explainingFailures(log: scratch.path + "/apache/error.log") {
                try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool)
            }
            sent += ["visitor-1", "visitor-1"]
            // The settings file reaches the hits too: a key it does not list
            // is refused.
            let stranger = try httpRequest("http://127.0.0.1:\(port)/pixel/v1/track?writeKey=other&anonymousId=x&event=Open")
            #expect(stranger.status != 200 && stranger.text == "invalid write key", "\(stranger.status) \(stranger.text)")
            try hits("a", 15)
            #expect(mode(spool) == 0o700)
            var st = stat()
            #expect(lstat(spool + "/current.ndjson", &st) == 0 && Int(st.st_uid) == uid && st.st_mode & 0o777 == 0o600)

            // 6. Upgrade in place, as the guide says: the new binary renamed
            // over the old, the spool untouched; hits go on.
            let upgradeSteps = try #require(guide["shared-hosting-upgrade"]).map(\.text)
            let upgrade = try run(upgradeSteps.joined(separator: "\n"))
            #expect(upgrade.status == 0, "\(upgrade.stderr)")
            try hits("b", 15)

            // 4. The shipped cron line, twice at once, in cron's environment
            // (a run that finds the other at work ends at once).
            let command = try SharedHostingTests.cronCommand()
            let cronEnvironment = ["HOME": home, "LOGNAME": user, "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"]
            let first = try ChildProcess(asUser[0], Array(asUser.dropFirst()) + ["/bin/sh", "-c", command], environment: cronEnvironment,
                                         log: scratch.path + "/cron1.log")
            let second = try ChildProcess(asUser[0], Array(asUser.dropFirst()) + ["/bin/sh", "-c", command], environment: cronEnvironment,
                                          log: scratch.path + "/cron2.log")
            #expect(waitUntil(seconds: 60) { !first.isRunning && !second.isRunning })
            // And once more, as the next five minutes would.
            let third = try runProcess(asUser[0], Array(asUser.dropFirst()) + ["/bin/sh", "-c", command], environment: cronEnvironment)
            #expect(third.status == 0, "\(third.stderr)")

            let delivered = try receiver.received().compactMap { $0.event["anonymousId"] as? String }
            #expect(delivered.count == sent.count, "in \(sent.count), delivered \(delivered.count)")
            #expect(delivered.sorted() == sent.sorted())
            #expect(Set(try receiver.received().compactMap { $0.event["messageId"] as? String }).count == sent.count)
            let log = (try? String(contentsOfFile: home + "/pixelgate/drain.log", encoding: .utf8)) ?? ""
            #expect(log.contains("32 events delivered"), "\(log)")

            // 5. What the account checks, the guide's command: nothing waiting.
            let stats = try run(try #require(guide["shared-hosting-stats"]).map(\.text).joined(separator: "\n"))
            #expect(stats.stdoutText.contains("backlog: 0 file(s), 0 events"), "\(stats.stdoutText) \(stats.stderr)")
            // The three refused hits above, and nothing the data plane refused.
            #expect(stats.stdoutText.contains("rejected: 3 records"), "\(stats.stdoutText)")
        }
    }
}
