import Foundation
import Testing

/// The shipped units, with only their placeholders changed. They set no
/// `Environment=`: pixelgate reads /etc/pixelgate/pixelgate.env itself, in
/// every mode, and a unit's variable would silently win over the file. The
/// tests may not write /etc, so they render the settings file a host has
/// (the shipped packaging/pixelgate.env, plus the data plane URL an operator
/// sets) and hand its settings to the unit's command as variables, which
/// has the same effect: the environment wins over the file.
@Suite("systemd units")
struct SystemdTests {
    static let units = ["pixelgate.socket", "pixelgate.service", "pixelgate-serve.service", "pixelgate-drain.service", "pixelgate-drain.timer"]

    /// What an operator adds to the packaged settings file (README.Debian);
    /// a test replaces the URL as it would a unit's placeholder.
    static let operatorSettings = "PIXELGATE_DATA_PLANE_URL=https://dataplane.example.com\n"

    /// The settings file rendered with each unit, by the unit's rendered
    /// text: what `render` returned and `command(of:)` is given.
    private let settingsFiles = RenderedSettingsFiles()

    /// Writes `unit`, its placeholders replaced, into `dir` and returns its
    /// text. Each replacement must occur in the unit or in the settings
    /// file it reads (a test of a file that no longer has a placeholder
    /// fails rather than testing something else).
    func render(_ unit: String, in dir: String, extra: [(String, String)] = []) throws -> String {
        var replacements: [(String, String)] = []
        if unit.hasSuffix(".service") {
            replacements = [("/usr/local/lib/pixelgate/pixelgate", pixelgateBinary), ("/var/spool/pixelgate", dir + "/spool")]
        }
        var text = try String(contentsOfFile: repositoryRoot + "/systemd/" + unit, encoding: .utf8)
        var settings = try String(contentsOfFile: repositoryRoot + "/packaging/pixelgate.env", encoding: .utf8)
            + "\n" + SystemdTests.operatorSettings
        for (placeholder, value) in replacements + extra {
            guard text.contains(placeholder) || settings.contains(placeholder) else {
                throw TestFailure("neither systemd/\(unit) nor the settings file has the placeholder \(placeholder)")
            }
            text = text.replacingOccurrences(of: placeholder, with: value)
            settings = settings.replacingOccurrences(of: placeholder, with: value)
        }
        try text.write(toFile: dir + "/" + unit, atomically: true, encoding: .utf8)
        settingsFiles.record(SystemdTests.assignments(inSettingsFile: settings), for: text)
        return text
    }

    /// `ExecStart=` split into words, and the environment its process gets:
    /// the settings file's assignments under the unit's own `Environment=`.
    func command(of unitText: String) -> (argv: [String], environment: [String: String]) {
        var argv: [String] = []
        var env = settingsFiles.assignments(for: unitText)
        for line in unitText.split(separator: "\n") {
            if line.hasPrefix("ExecStart=") { argv = line.dropFirst(10).split(separator: " ").map(String.init) }
            if line.hasPrefix("Environment=") {
                let assignment = line.dropFirst(12)
                if let eq = assignment.firstIndex(of: "=") { env[String(assignment[..<eq])] = String(assignment[assignment.index(after: eq)...]) }
            }
        }
        return (argv, env)
    }

    /// The `NAME=value` lines of a settings file (`#` comments, optional
    /// quotes), as pixelgate reads them.
    static func assignments(inSettingsFile text: String) -> [String: String] {
        var settings: [String: String] = [:]
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            settings[line[..<eq].trimmingCharacters(in: .whitespaces)] = value
        }
        return settings
    }

    /// No unit overrides the settings file: no `Environment=` or
    /// `EnvironmentFile=` (the file is pixelgate's to read, in every mode,
    /// and a unit's variable would win over it), and each service may
    /// write exactly the spool the shipped settings file names.
    @Test func theUnitsLeaveSettingsToTheSettingsFile() throws {
        let shipped = SystemdTests.assignments(inSettingsFile: try String(contentsOfFile: repositoryRoot + "/packaging/pixelgate.env", encoding: .utf8))
        #expect(shipped["PIXELGATE_SPOOL_DIR"] == "/var/spool/pixelgate")
        for unit in SystemdTests.units {
            let text = try String(contentsOfFile: repositoryRoot + "/systemd/" + unit, encoding: .utf8)
            let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            let ownEnvironment = lines.contains(where: { $0.hasPrefix("Environment=") || $0.hasPrefix("EnvironmentFile=") })
            #expect(ownEnvironment == false, "\(unit) sets its own environment")
            if unit.hasSuffix(".service") {
                let spool = shipped["PIXELGATE_SPOOL_DIR"] ?? "?"
                let writesTheSpool = lines.contains(where: { $0 == "ReadWritePaths=" + spool })
                #expect(writesTheSpool, "\(unit) may not write \(spool)")
            }
        }
    }

    @Test func everyUnitPassesSystemdAnalyzeVerifyWithoutWarnings() throws {
        let scratch = Scratch()
        for unit in SystemdTests.units { _ = try render(unit, in: scratch.path) }
        let verify = try runProcess("/usr/bin/systemd-analyze", ["verify", "--man=no"] + SystemdTests.units.map { scratch.path + "/" + $0 },
                                    environment: nil, mergeStderr: true)
        #expect(verify.status == 0)
        #expect(verify.stdoutText.isEmpty, "systemd-analyze verify said: \(verify.stdoutText)")
    }

    /// What systemd runs for the socket-activated unit, with its environment
    /// and a listening socket on stdin (spawn-fcgi -n gives exactly that).
    @Test func socketActivatedServiceAnswersFastCGIOnStdin() throws {
        let scratch = Scratch()
        let (argv, env) = command(of: try render("pixelgate.service", in: scratch.path))
        #expect(argv == [pixelgateBinary])
        #expect(env["PIXELGATE_SPOOL_DIR"] == scratch.path + "/spool")
        let socketPath = scratch.path + "/pixelgate.sock"
        let responder = try ChildProcess("/usr/bin/spawn-fcgi", ["-n", "-s", socketPath, "--"] + argv, environment: env, log: scratch.path + "/log")
        #expect(waitForUnixSocket(socketPath))
        let answer = try FastCGIClient(address: .unix(socketPath)).get("/pixel/v1/page?writeKey=wk&anonymousId=systemd")
        #expect(answer.status == 200)
        #expect(responder.stop())
        #expect(responder.exitCode == 0)
        #expect(scratch.spoolLines.count == 1)
    }

    @Test func drainServiceDeliversTheSpool() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let (argv, env) = command(of: try render("pixelgate-drain.service", in: scratch.path, extra: [("https://dataplane.example.com", receiver.url)]))
        #expect(Array(argv.dropFirst()) == ["drain", "--once"])
        let hit = try runPixelgate(environment: cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=timer", spool: env["PIXELGATE_SPOOL_DIR"] ?? ""))
        #expect(hit.stdoutText.hasSuffix("OK"))
        let drain = try runPixelgate(Array(argv.dropFirst()), environment: env)
        #expect(drain.status == 0, "\(drain.stderr)")
        #expect(try receiver.received().map { $0.event["anonymousId"] as? String } == ["timer"])
    }

    /// The serve unit listens on a unix socket only the web server's group
    /// may use: www-data connects, another account is refused.
    @Test func serveServiceAnswersOnItsSocket() throws {
        let scratch = Scratch()
        let runtime = scratch.path + "/run"  // what RuntimeDirectory= makes
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        let socketPath = runtime + "/pixelgate.sock"
        let (argv, env) = command(of: try render("pixelgate-serve.service", in: scratch.path, extra: [("/run/pixelgate/pixelgate.sock", socketPath)]))
        #expect(Array(argv.dropFirst()) == ["serve", "--listen", socketPath, "--socket-group", "www-data", "--workers", "2"])
        let daemon = try ChildProcess(argv[0], Array(argv.dropFirst()), environment: env, log: scratch.path + "/log")
        #expect(waitForUnixSocket(socketPath))
        let socket = try #require(try? FileManager.default.attributesOfItem(atPath: socketPath))
        #expect((socket[.posixPermissions] as? Int) == 0o660)
        #expect((socket[.groupOwnerAccountName] as? String) == "www-data")
        #expect(try connects(to: socketPath, as: ["--reuid=33", "--regid=33", "--init-groups"]))  // www-data
        #expect(try !connects(to: socketPath, as: ["--reuid=65534", "--regid=65534", "--clear-groups"]))  // nobody
        #expect(try FastCGIClient(address: .unix(socketPath)).get("/pixel/v1/track?writeKey=wk&anonymousId=s&event=e").status == 200)
        #expect(daemon.stop())
        #expect(daemon.exitCode == 0)
        #expect(scratch.spoolLines.count == 1)
    }
}

/// Settings files rendered beside units, by the unit's rendered text.
final class RenderedSettingsFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var byUnitText: [String: [String: String]] = [:]

    func record(_ assignments: [String: String], for unitText: String) {
        lock.withLock { byUnitText[unitText] = assignments }
    }

    func assignments(for unitText: String) -> [String: String] {
        lock.withLock { byUnitText[unitText] ?? [:] }
    }
}
