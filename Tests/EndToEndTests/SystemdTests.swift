import Foundation
import Testing

@Suite("systemd units")
struct SystemdTests {
    static let units = ["pixelgate.socket", "pixelgate.service", "pixelgate-serve.service", "pixelgate-drain.service", "pixelgate-drain.timer"]

    func render(_ unit: String, in dir: String, extra: [(String, String)] = []) throws -> String {
        var replacements: [(String, String)] = []
        if unit.hasSuffix(".service") {
            replacements = [("/usr/local/lib/pixelgate/pixelgate", pixelgateBinary), ("/var/spool/pixelgate", dir + "/spool")]
        }
        let text = try shippedConfig("systemd/" + unit, replacements + extra)
        try text.write(toFile: dir + "/" + unit, atomically: true, encoding: .utf8)
        return text
    }

    /// `ExecStart=` split into words, and the `Environment=` assignments.
    func command(of unitText: String) -> (argv: [String], environment: [String: String]) {
        var argv: [String] = []
        var env: [String: String] = [:]
        for line in unitText.split(separator: "\n") {
            if line.hasPrefix("ExecStart=") { argv = line.dropFirst(10).split(separator: " ").map(String.init) }
            if line.hasPrefix("Environment=") {
                let assignment = line.dropFirst(12)
                if let eq = assignment.firstIndex(of: "=") { env[String(assignment[..<eq])] = String(assignment[assignment.index(after: eq)...]) }
            }
        }
        return (argv, env)
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
        #expect(waitUntil { FileManager.default.fileExists(atPath: socketPath) })
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

    @Test func serveServiceAnswersOnItsAddress() throws {
        let scratch = Scratch()
        let port = freePort()
        let (argv, env) = command(of: try render("pixelgate-serve.service", in: scratch.path, extra: [("127.0.0.1:9000", "127.0.0.1:\(port)")]))
        #expect(Array(argv.dropFirst()) == ["serve", "--listen", "127.0.0.1:\(port)", "--workers", "2"])
        let daemon = try ChildProcess(argv[0], Array(argv.dropFirst()), environment: env, log: scratch.path + "/log")
        #expect(waitForPort(port))
        #expect(try FastCGIClient(address: .tcp("127.0.0.1", port)).get("/pixel/v1/track?writeKey=wk&anonymousId=s&event=e").status == 200)
        #expect(daemon.stop())
        #expect(daemon.exitCode == 0)
        #expect(scratch.spoolLines.count == 1)
    }
}
