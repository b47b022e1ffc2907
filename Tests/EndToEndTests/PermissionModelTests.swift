import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// README's one permission model (SPEC §7a), played with real users for
/// every way a web server runs pixelgate: root makes the spool 2770
/// root:www-data and runs `check`; the web server's user writes hits; the
/// shipped drain unit's user (`pixelgate`, joined to www-data only by the
/// unit's `SupplementaryGroups=`) ships them. In either order neither may
/// lock the other out: before, a root-owned `.lock` made every hit 503, and
/// www-data's 0644 files made the drain fail forever.
@Suite("One spool for the web server and the drain (SPEC §7a)")
struct PermissionModelTests {
    enum Deployment: String, CaseIterable, CustomTestStringConvertible {
        case apacheCGI, nginxFcgiwrap, apacheFcgid, nginxServe
        var testDescription: String { rawValue }
    }

    enum Order: String, CaseIterable, CustomTestStringConvertible {
        case webServerFirst, drainFirst
        var testDescription: String { rawValue }
    }

    static let webServerGroup: gid_t = 33

    /// `setpriv` arguments that run a command as a shipped unit does:
    /// its `User=`, `Group=`, `SupplementaryGroups=` and `UMask=`, with
    /// the unit's `pixelgate` user played by `pixelgateUID` (group nogroup).
    static func launcher(ofUnit text: String, pixelgateUID: Int) throws -> [String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        func gid(_ name: String) throws -> gid_t {
            if name == "pixelgate" { return 65534 }
            guard let entry = getgrnam(name) else { throw TestFailure("no group \(name)") }
            return entry.pointee.gr_gid
        }
        guard fields["User"] == "pixelgate", let group = fields["Group"], let umask = fields["UMask"] else {
            throw TestFailure("the unit names no User=pixelgate, Group= or UMask=")
        }
        let supplementary = try (fields["SupplementaryGroups"] ?? "").split(separator: " ").map { try gid(String($0)) }
        return ["/usr/bin/setpriv", "--reuid=\(pixelgateUID)", "--regid=\(try gid(group))",
                supplementary.isEmpty ? "--clear-groups" : "--groups=" + supplementary.map(String.init).joined(separator: ","),
                "/bin/sh", "-c", "umask \(umask); exec \"$@\"", "sh"]
    }

    /// Starts the web server for `deployment` on `port`, running `binary`
    /// as it would on a Debian host; `serveUnit` launches `serve` as the
    /// shipped unit does.
    static func start(_ deployment: Deployment, port: Int, binary: String, spool: String, scratch: Scratch,
                      serveAs launcher: [String], serveEnvironment: [String: String]) throws -> [Daemon] {
        let dir = (binary as NSString).deletingLastPathComponent
        switch deployment {
        case .apacheCGI, .apacheFcgid:
            let snippet = try shippedConfig(deployment == .apacheCGI ? "apache-conf/pixelgate-cgi.conf" : "apache-conf/pixelgate-fcgid.conf",
                                            [("/usr/local/lib/pixelgate", dir), ("/var/spool/pixelgate", spool)])
            return [try startApache(snippet: snippet, port: port, in: scratch.path + "/apache")]
        case .nginxFcgiwrap:
            // As Debian's fcgiwrap.service runs it: User=www-data, Group=www-data.
            let run = scratch.path + "/run"
            mkdir(run, 0o755)
            chown(run, 33, 33)
            let socketPath = run + "/fcgiwrap.sock"
            let fcgiwrap = try Daemon("fcgiwrap", "/usr/bin/setpriv",
                                      ["--reuid=33", "--regid=33", "--init-groups", "/usr/sbin/fcgiwrap", "-s", "unix:" + socketPath, "-c", "2"],
                                      log: scratch.path + "/fcgiwrap.log")
            guard waitForUnixSocket(socketPath) else { throw TestFailure("fcgiwrap did not start") }
            let conf = try shippedConfig("nginx-conf/pixelgate-fcgiwrap.conf", [
                ("127.0.0.1:8080", "127.0.0.1:\(port)"), ("unix:/run/fcgiwrap.socket", "unix:" + socketPath),
                ("/usr/local/lib/pixelgate/pixelgate", binary), ("/var/spool/pixelgate", spool),
            ])
            return [try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx"), fcgiwrap]
        case .nginxServe:
            let backend = freePort()
            let serve = try Daemon("serve", launcher[0], Array(launcher.dropFirst()) + [binary, "serve", "--listen", "127.0.0.1:\(backend)", "--workers", "2"],
                                   environment: serveEnvironment, log: scratch.path + "/serve.log")
            guard waitForPort(backend) else { throw TestFailure("serve did not start: \(serve.logText)") }
            let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
            return [try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx"), serve]
        }
    }

    @Test(arguments: Deployment.allCases, Order.allCases)
    func theWebServerAndTheDrainShareOneSpool(_ deployment: Deployment, _ order: Order) throws {
        let scratch = Scratch()
        let binary = try binaryOtherUsersCanRun(scratch)
        // README's set-up, as root under umask 022.
        let spool = try webServerSpool(scratch)
        let check = try runProcess("/bin/sh", ["-c", "umask 022; exec \"$0\" check", binary], environment: ["PIXELGATE_SPOOL_DIR": spool])
        #expect(check.status == 0, "\(check.stdoutText)")
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        defer { receiver.stop() }

        try withLocalUser(home: scratch.path + "/home") { pixelgateUID in
            let units = SystemdTests()
            let drainUnit = try units.render("pixelgate-drain.service", in: scratch.path, extra: [("https://dataplane.example.com", receiver.url)])
            let serveUnit = try units.render("pixelgate-serve.service", in: scratch.path)
            let (drainArgv, drainEnv) = units.command(of: drainUnit)
            #expect(drainEnv["PIXELGATE_SPOOL_DIR"] == spool)
            let asDrainUnit = try PermissionModelTests.launcher(ofUnit: drainUnit, pixelgateUID: pixelgateUID)
            let asServeUnit = try PermissionModelTests.launcher(ofUnit: serveUnit, pixelgateUID: pixelgateUID)
            var drains: [ProcessResult] = []
            func drain() throws {
                drains.append(try runProcess(asDrainUnit[0], Array(asDrainUnit.dropFirst()) + [binary] + drainArgv.dropFirst(), environment: drainEnv))
            }
            let port = freePort()
            let servers = try PermissionModelTests.start(deployment, port: port, binary: binary, spool: spool, scratch: scratch,
                                                         serveAs: asServeUnit, serveEnvironment: units.command(of: serveUnit).environment)
            defer { servers.forEach { $0.stop() } }
            var sent: [String] = []
            var statuses: [Int] = []
            func hits(_ tag: String) throws {
                for i in 0..<5 {
                    let id = "\(deployment.rawValue)-\(order.rawValue)-\(tag)\(i)"
                    statuses.append(try httpRequest("http://127.0.0.1:\(port)/pixel/v1/track?writeKey=wk&anonymousId=\(id)&event=Open").status)
                    sent.append(id)
                }
            }
            if order == .drainFirst { try drain() }
            try hits("a")
            try drain()
            try hits("b")
            try drain()

            #expect(statuses == Array(repeating: 200, count: sent.count), "\(servers.map(\.logText))")
            for result in drains { #expect(result.status == 0, "\(result.stderr)") }
            let delivered = try receiver.received().compactMap { $0.event["anonymousId"] as? String }
            #expect(delivered.sorted() == sent.sorted(), "sent \(sent.count), delivered \(delivered.count)")
            // Everything either user made is the other's to use: the
            // spool's group, 0660 files, 2770 directories.
            let names = (FileManager.default.enumerator(atPath: spool)?.allObjects as? [String]) ?? []
            #expect(!names.isEmpty)
            for name in names {
                let path = spool + "/" + name
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                #expect(group(path) == Int(PermissionModelTests.webServerGroup), "\(name)")
                #expect(mode(path) == (isDirectory.boolValue ? 0o2770 : 0o660), "\(name): \(String(mode(path), radix: 8))")
            }
        }
    }
}
