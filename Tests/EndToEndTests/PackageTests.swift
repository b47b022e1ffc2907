import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Debian package (`scripts/dist --deb`), installed, used, removed and
/// purged on this machine as root, as an operator would.
///
/// scripts/test runs this suite as a step of its own, with `PIXELGATE_DEB`
/// naming the package, never beside the other suites: while the package is
/// installed every pixelgate on the machine reads its
/// /etc/pixelgate/pixelgate.env. Without `PIXELGATE_DEB` it does not run.
@Suite("The Debian package", .serialized,
       .enabled(if: (ProcessInfo.processInfo.environment["PIXELGATE_DEB"] ?? "") != "", "PIXELGATE_DEB names no package (scripts/test sets it)"))
struct PackageTests {
    static let package: String? = {
        guard let path = ProcessInfo.processInfo.environment["PIXELGATE_DEB"], !path.isEmpty else { return nil }
        return path
    }()

    static let binary = "/usr/bin/pixelgate"
    static let settingsDirectory = "/etc/pixelgate"
    static let settingsFile = "/etc/pixelgate/pixelgate.env"
    static let spool = "/var/spool/pixelgate"
    static let units = ["pixelgate.socket", "pixelgate.service", "pixelgate-serve.service", "pixelgate-drain.service", "pixelgate-drain.timer"]

    /// Runs a system tool as root with a plain PATH, as dpkg and its
    /// maintainer scripts expect.
    func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess(executable, arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"])
    }

    func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    func owner(_ path: String) -> Int {
        var st = stat()
        guard lstat(path, &st) == 0 else { return -1 }
        return Int(st.st_uid)
    }

    var webServerGroup: Int {
        guard let entry = getgrnam("www-data") else { return -2 }
        return Int(entry.pointee.gr_gid)
    }

    /// The lines of every event file in the spool (`*.ndjson` outside
    /// rejected/), at any depth.
    func spooledLines() -> [String] {
        let names = (FileManager.default.enumerator(atPath: PackageTests.spool)?.allObjects as? [String]) ?? []
        return names.filter { $0.hasSuffix(".ndjson") && !$0.hasPrefix("rejected/") }.sorted().flatMap { name -> [String] in
            let text = (try? String(contentsOfFile: PackageTests.spool + "/" + name, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").map(String.init)
        }
    }

    /// A plain CGI hit as the web server runs it: as www-data, with no
    /// `PIXELGATE_*` variable (the settings file names the spool).
    func cgiHit(_ anonymousId: String, extra: [String: String] = [:]) throws -> ProcessResult {
        var env = cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=\(anonymousId)", spool: "", extra: extra)
        if extra["PIXELGATE_SPOOL_DIR"] == nil { env.removeValue(forKey: "PIXELGATE_SPOOL_DIR") }
        return try runProcess("/usr/bin/setpriv", ["--reuid=33", "--regid=33", "--init-groups", PackageTests.binary], environment: env)
    }

    /// Installs the package on a machine with no pixelgate of its own, runs
    /// `body`, and purges it afterwards whatever happened, removing what the
    /// package or the test made (nothing here existed before). Refuses, as a
    /// failure, a machine where pixelgate's paths already exist: the test
    /// could not tell them from its own, and would purge them.
    func withPackageInstalled(_ body: () throws -> Void) throws {
        let deb = try #require(PackageTests.package)
        for path in [PackageTests.settingsDirectory, PackageTests.binary, PackageTests.spool] where exists(path) {
            throw TestFailure("\(path) exists already: this suite installs and purges pixelgate here and will not touch a pixelgate it did not install")
        }
        let status = try run("/usr/bin/dpkg-query", ["--show", "--showformat=${Status}", "pixelgate"])
        if status.status == 0 && !status.stdoutText.hasSuffix("not-installed") {
            throw TestFailure("a pixelgate package is installed already (\(status.stdoutText)): this suite would purge it")
        }
        let userExisted = getpwnam("pixelgate") != nil
        defer {
            _ = try? run("/usr/bin/dpkg", ["--purge", "pixelgate"])
            try? FileManager.default.removeItem(atPath: PackageTests.spool)
            try? FileManager.default.removeItem(atPath: PackageTests.settingsDirectory)
            // Debian leaves a package's system user in place; the test
            // removes the one it made, so the next run installs afresh.
            if !userExisted {
                _ = try? run("/usr/sbin/userdel", ["pixelgate"])
                _ = try? run("/usr/sbin/groupdel", ["pixelgate"])
            }
        }
        let install = try run("/usr/bin/dpkg", ["--install", deb])
        guard install.status == 0 else { throw TestFailure("dpkg --install \(deb): \(install.stdoutText)\(install.stderr)") }
        try body()
    }

    @Test func lintianFindsNoErrors() throws {
        let deb = try #require(PackageTests.package)
        let lintian = try run("/usr/bin/lintian", [deb])
        let errors = lintian.stdoutText.split(separator: "\n").filter { $0.hasPrefix("E: ") }
        #expect(errors.isEmpty, "\(errors.joined(separator: "\n"))")
        // 0: lintian ran and found nothing at or above its fail-on level (errors).
        #expect(lintian.status == 0, "\(lintian.stdoutText)\(lintian.stderr)")
    }

    /// Installed: every file where the package promises it, the settings
    /// file private to root and the web server, the spool shared with it,
    /// and a CGI hit and `check` that need no variable at all. Removed: the
    /// settings and the spool stay. Purged: the settings go, the spool with
    /// its undelivered events stays, and dpkg's output says where.
    @Test func installsServesFromTheSettingsFileAndPurgesWithoutLosingEvents() throws {
        try withPackageInstalled {
            // The binary and the units, pointing at it.
            #expect(FileManager.default.isExecutableFile(atPath: PackageTests.binary))
            for unit in PackageTests.units {
                let path = "/usr/lib/systemd/system/" + unit
                let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                #expect(!text.isEmpty, "missing \(path)")
                #expect(!text.contains("/usr/local"), "\(path) names /usr/local")
                if unit.hasSuffix(".service") {
                    #expect(text.contains("\nExecStart=/usr/bin/pixelgate"), "\(path)")
                }
            }
            for path in ["/usr/lib/sysusers.d/pixelgate.conf", "/usr/lib/tmpfiles.d/pixelgate.conf",
                         "/usr/share/doc/pixelgate/copyright", "/usr/share/doc/pixelgate/changelog.gz",
                         "/usr/share/doc/pixelgate/README.md.gz", "/usr/share/doc/pixelgate/README.Debian",
                         "/usr/share/doc/pixelgate/examples/pixelgate.env",
                         "/usr/share/doc/pixelgate/examples/apache-conf/pixelgate-cgi.conf",
                         "/usr/share/doc/pixelgate/examples/nginx-conf/pixelgate-serve.conf"] {
                #expect(exists(path), "missing \(path)")
            }
            // The man page, as man finds it (where man-db is installed).
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/man") {
                let man = try run("/usr/bin/man", ["-w", "8", "pixelgate"])
                #expect(man.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "/usr/share/man/man8/pixelgate.8.gz",
                        "\(man.stdoutText)\(man.stderr)")
            } else {
                #expect(exists("/usr/share/man/man8/pixelgate.8.gz"))
            }

            // The settings file: a conffile, 0640 root:www-data.
            let conffiles = try run("/usr/bin/dpkg-query", ["--show", "--showformat=${Conffiles}", "pixelgate"])
            #expect(conffiles.stdoutText.contains(PackageTests.settingsFile + " "), "\(conffiles.stdoutText)")
            #expect(mode(PackageTests.settingsFile) == 0o640)
            #expect(owner(PackageTests.settingsFile) == 0)
            #expect(group(PackageTests.settingsFile) == webServerGroup)
            // The spool, 2770 root:www-data, and the user the units run as,
            // a member of www-data.
            #expect(mode(PackageTests.spool) == 0o2770)
            #expect(owner(PackageTests.spool) == 0)
            #expect(group(PackageTests.spool) == webServerGroup)
            let user = try #require(getpwnam("pixelgate"), "no user pixelgate")
            let pixelgateUID = Int(user.pointee.pw_uid), pixelgateGID = Int(user.pointee.pw_gid)
            let groups = try run("/usr/bin/id", ["-Gn", "pixelgate"])
            #expect(groups.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("www-data"), "\(groups.stdoutText)")

            // The packaged settings alone: no PIXELGATE_* variable.
            let check = try runProcess(PackageTests.binary, ["check"], environment: ["PATH": "/usr/bin:/bin"])
            #expect(check.status == 0, "\(check.stdoutText)\(check.stderr)")
            #expect(check.stdoutText.contains("PIXELGATE_SPOOL_DIR=/var/spool/pixelgate"), "\(check.stdoutText)")
            #expect(check.stdoutText.contains(PackageTests.settingsFile), "check does not name the file it read: \(check.stdoutText)")
            // A CGI hit as the web server's user lands in the packaged spool.
            let hit = try cgiHit("package-cgi")
            #expect(hit.status == 0)
            #expect(hit.stdoutText.hasPrefix("Status: 200 OK\r\n"), "\(hit.stdoutText)\(hit.stderr)")
            // The drain's user (www-data through its group) reads the
            // settings file and the spool as the drain unit would.
            let stats = try runProcess("/usr/bin/setpriv", ["--reuid=\(pixelgateUID)", "--regid=\(pixelgateGID)", "--init-groups",
                                                            PackageTests.binary, "stats"], environment: ["PATH": "/usr/bin:/bin"])
            #expect(stats.status == 0, "\(stats.stdoutText)\(stats.stderr)")
            // One more hit naming the spool itself, so that what follows
            // has events to keep whatever the settings file did.
            let named = try cgiHit("package-named", extra: ["PIXELGATE_SPOOL_DIR": PackageTests.spool])
            #expect(named.stdoutText.hasPrefix("Status: 200 OK\r\n"), "\(named.stdoutText)\(named.stderr)")
            let ids = try spooledLines().map { try jsonObject($0)["event"] as? [String: Any] }.map { $0?["anonymousId"] as? String }
            #expect(ids == ["package-cgi", "package-named"])
            let events = spooledLines().count
            #expect(events >= 1)

            // Removed: the binary goes; the settings and the events stay.
            let remove = try run("/usr/bin/dpkg", ["--remove", "pixelgate"])
            #expect(remove.status == 0, "\(remove.stdoutText)\(remove.stderr)")
            #expect(!exists(PackageTests.binary))
            #expect(exists(PackageTests.settingsFile))
            #expect(spooledLines().count == events)

            // Purged: the settings go; the spool holds events, so it stays,
            // every event in it, and the purge says where they are.
            let purge = try run("/usr/bin/dpkg", ["--purge", "pixelgate"])
            #expect(purge.status == 0, "\(purge.stdoutText)\(purge.stderr)")
            #expect(!exists(PackageTests.settingsDirectory))
            #expect(spooledLines().count == events)
            #expect(purge.stderr.contains(PackageTests.spool), "\(purge.stderr)")
        }
        #expect(!exists(PackageTests.binary) && !exists(PackageTests.settingsDirectory) && !exists(PackageTests.spool))
    }

    /// A purge says what a kept spool holds, each kind with what to do: a
    /// refused hit is a record to read, not an event a drain could send (it
    /// said "events that were not delivered" and suggested a drain).
    @Test func purgeSaysWhatTheKeptSpoolHolds() throws {
        try withPackageInstalled {
            let check = try runProcess(PackageTests.binary, ["check"], environment: ["PATH": "/usr/bin:/bin", "PIXELGATE_SPOOL_DIR": PackageTests.spool])
            #expect(check.status == 0, "\(check.stdoutText)\(check.stderr)")
            #expect(mkdir(PackageTests.spool + "/rejected", 0o2770) == 0 || errno == EEXIST)
            let record = #"{"at":"2026-12-07T10:00:00.000Z","status":400,"reason":"missing required parameter: anonymousId","query":"writeKey=wk"}"# + "\n"
            #expect(FileManager.default.createFile(atPath: PackageTests.spool + "/rejected/hits.ndjson", contents: Data(record.utf8)))
            var purge = try run("/usr/bin/dpkg", ["--purge", "pixelgate"])
            #expect(purge.status == 0, "\(purge.stdoutText)\(purge.stderr)")
            #expect(purge.stderr.contains("1 record(s) of refused hits or unreadable lines in rejected/: kept for you to read, nothing to deliver"),
                    "\(purge.stderr)")
            #expect(!purge.stderr.contains("drain") && !purge.stderr.contains("not yet"), "\(purge.stderr)")
            #expect(exists(PackageTests.spool + "/rejected/hits.ndjson"))

            // Events waiting and events the data plane refused, each named.
            let reinstall = try run("/usr/bin/dpkg", ["--install", try #require(PackageTests.package)])
            #expect(reinstall.status == 0, "\(reinstall.stdoutText)\(reinstall.stderr)")
            let line = #"{"writeKey":"wk","event":{"type":"page","anonymousId":"a"}}"# + "\n"
            #expect(FileManager.default.createFile(atPath: PackageTests.spool + "/current.ndjson", contents: Data((line + line).utf8)))
            #expect(FileManager.default.createFile(atPath: PackageTests.spool + "/rejected/upstream.ndjson", contents: Data(line.utf8)))
            purge = try run("/usr/bin/dpkg", ["--purge", "pixelgate"])
            #expect(purge.status == 0, "\(purge.stdoutText)\(purge.stderr)")
            #expect(purge.stderr.contains("2 event line(s) in spool files, not yet drained") && purge.stderr.contains("drain --once"), "\(purge.stderr)")
            #expect(purge.stderr.contains("1 event(s) the data plane refused, in rejected/upstream.ndjson") && purge.stderr.contains("requeue"),
                    "\(purge.stderr)")
        }
    }

    /// A spool with no events is pixelgate's alone: a purge removes it with
    /// pixelgate's own files in it. An upgrade (here a reinstall) keeps the
    /// mode an operator gave the settings file.
    @Test func purgeRemovesASpoolWithoutEventsAndUpgradesKeepTheSettingsMode() throws {
        let deb = try #require(PackageTests.package)
        try withPackageInstalled {
            #expect(chmod(PackageTests.settingsFile, 0o600) == 0)
            let reinstall = try run("/usr/bin/dpkg", ["--install", deb])
            #expect(reinstall.status == 0, "\(reinstall.stdoutText)\(reinstall.stderr)")
            #expect(mode(PackageTests.settingsFile) == 0o600)

            // pixelgate's own bookkeeping, and event files with nothing in
            // them, as a drained spool has.
            let check = try runProcess(PackageTests.binary, ["check"], environment: ["PATH": "/usr/bin:/bin", "PIXELGATE_SPOOL_DIR": PackageTests.spool])
            #expect(check.status == 0, "\(check.stdoutText)\(check.stderr)")
            #expect(mkdir(PackageTests.spool + "/rejected", 0o2770) == 0 || errno == EEXIST)
            for name in [".lock", ".drain.lock", ".dropped", ".sealed-x.ndjson.progress", "current.ndjson", "rejected/hits.ndjson"] {
                #expect(FileManager.default.createFile(atPath: PackageTests.spool + "/" + name, contents: nil), "\(name)")
            }
            let purge = try run("/usr/bin/dpkg", ["--purge", "pixelgate"])
            #expect(purge.status == 0, "\(purge.stdoutText)\(purge.stderr)")
            #expect(!exists(PackageTests.spool), "\(purge.stderr)")
            #expect(!exists(PackageTests.settingsDirectory))
            #expect(!exists(PackageTests.binary))
        }
    }
}
