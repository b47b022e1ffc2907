import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// README's "Shared hosting, from upload to delivery", played as a
/// cPanel-style account would: the release tarball unpacked in the
/// account's home, the shipped `.htaccess`, `pixelgate.conf` and crontab
/// line with only their placeholders set, Apache running the account's CGI
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
            // The download, where the account can read it.
            let tarball = scratch.path + "/pixelgate.tar.gz"
            try FileManager.default.copyItem(atPath: try DistTests().tarball(), toPath: tarball)
            chmod(tarball, 0o644)
            chmod(scratch.path, 0o755)
            // What the account does through its file manager or SSH, as itself.
            func run(_ script: String) throws -> ProcessResult {
                try runProcess(asUser[0], Array(asUser.dropFirst()) + ["/bin/sh", "-c", script],
                               environment: ["HOME": home, "PATH": "/usr/bin:/bin", "TARBALL": tarball, "DATA_PLANE": receiver.url])
            }

            // 1. Unpack into the home directory; the settings file in its
            // place; the .htaccess as shipped.
            let unpack = try run("""
                set -e
                mkdir -p "$HOME/pixelgate" "$HOME/public_html" "$HOME/.config/pixelgate"
                tar -xzf "$TARBALL" -C "$HOME/pixelgate" --strip-components=1
                install -D -m 600 "$HOME/pixelgate/apache-conf/shared-hosting/pixelgate.conf" "$HOME/.config/pixelgate/pixelgate.conf"
                sed -i -e "s|https://YOUR-DATA-PLANE.example.com|$DATA_PLANE|" -e "s|^PIXELGATE_WRITE_KEYS=$|PIXELGATE_WRITE_KEYS=wk|" \
                  "$HOME/.config/pixelgate/pixelgate.conf"
                cp "$HOME/pixelgate/apache-conf/shared-hosting/.htaccess" "$HOME/public_html/.htaccess"
                cp "$HOME/pixelgate/bin/pixelgate" "$HOME/public_html/pixelgate.cgi"
                chmod 755 "$HOME/public_html/pixelgate.cgi"
                """)
            #expect(unpack.status == 0, "\(unpack.stderr)")
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

            // 3. Upgrade in place (README): the new binary renamed over the
            // old, the spool untouched; hits go on.
            let upgrade = try run("""
                set -e
                cp "$HOME/pixelgate/bin/pixelgate" "$HOME/public_html/pixelgate.cgi.new"
                chmod 755 "$HOME/public_html/pixelgate.cgi.new"
                mv -f "$HOME/public_html/pixelgate.cgi.new" "$HOME/public_html/pixelgate.cgi"
                """)
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

            // 5. What the account checks: nothing waiting.
            let stats = try run("\"$HOME/pixelgate/bin/pixelgate\" stats")
            #expect(stats.stdoutText.contains("backlog: 0 file(s), 0 events"), "\(stats.stdoutText) \(stats.stderr)")
            // The three refused hits above, and nothing the data plane refused.
            #expect(stats.stdoutText.contains("rejected: 3 records"), "\(stats.stdoutText)")
        }
    }
}
