import Foundation
import Testing

/// What an operator does by hand must not hurt: a closed SSH session, a
/// config file saved on Windows, a URL with credentials in it (SPEC §7a).
@Suite("Safe in an operator's hands")
struct OperatorSafetyTests {
    /// SIGHUP (the terminal or SSH session that started it closed) used to
    /// kill `serve` and `drain --follow`.
    @Test func sighupKillsNeitherServeNorTheFollowingDrain() throws {
        let scratch = Scratch()
        let serve = try ServeProcess(listen: scratch.path + "/pg.sock", workers: 1, environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        kill(serve.child.pid, SIGHUP)
        for worker in serve.workerPIDs { kill(worker, SIGHUP) }
        usleep(300_000)
        #expect(try serve.client.get("/pixel/v1/page?writeKey=wk&anonymousId=after-hup").status == 200)
        #expect(serve.stop().status == 0)

        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        let follower = try ChildProcess(pixelgateBinary, ["drain", "--follow", "--interval", "1"],
                                        environment: ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": receiver.url,
                                                      "PIXELGATE_SEAL_SECONDS": "1"],
                                        log: scratch.path + "/follow.log")
        // Once it has started (its handlers are set before it logs this).
        #expect(waitUntil(seconds: 30) { ((try? String(contentsOfFile: scratch.path + "/follow.log", encoding: .utf8)) ?? "").contains("draining") })
        kill(follower.pid, SIGHUP)
        #expect(waitUntil(seconds: 20) { ((try? receiver.received().count) ?? 0) == 1 })
        #expect(follower.isRunning)
        #expect(follower.stop(grace: 10))
        #expect(follower.exitCode == 0)
    }

    /// A config file with a BOM, CRLF line ends and `;` comments used to
    /// make every hit 500.
    @Test func aConfigFileSavedOnWindowsWorks() throws {
        let scratch = Scratch()
        let file = scratch.path + "/pixelgate.env"
        try Data("\u{FEFF}; pixelgate\r\nPIXELGATE_RESPONSE=gif\r\nPIXELGATE_SPOOL_DIR=\(scratch.spool)\r\n".utf8)
            .write(to: URL(fileURLWithPath: file))
        var env = cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=a", spool: scratch.spool)
        env["PIXELGATE_SPOOL_DIR"] = nil
        env["PIXELGATE_CONFIG"] = file
        let result = try runPixelgate(environment: env)
        #expect(result.stdoutText.hasPrefix("Status: 200"), "\(result.stdoutText) \(result.stderr)")
        #expect(result.stdoutText.contains("Content-Type: image/gif"))
        #expect(scratch.spoolLines.count == 1)
    }

    /// `user:password@` in the data plane URL never reaches output or logs.
    @Test func credentialsInTheDataPlaneURLAreMasked() throws {
        let scratch = Scratch()
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp", notFound: true)
        try receiver.start()
        let url = receiver.url.replacingOccurrences(of: "http://", with: "http://admin:hunter2@")
        let env = ["PIXELGATE_SPOOL_DIR": scratch.spool, "PIXELGATE_DATA_PLANE_URL": url]
        let check = try runPixelgate(["check"], environment: env)
        #expect(check.stdoutText.contains("PIXELGATE_DATA_PLANE_URL=http://***@127.0.0.1"), "\(check.stdoutText)")
        _ = try runPixelgate(environment: cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=a", spool: scratch.spool))
        let drain = try runPixelgate(["drain", "--once"], environment: env)
        #expect(drain.status == 78)
        let follower = try ChildProcess(pixelgateBinary, ["drain", "--follow", "--interval", "1"], environment: env,
                                        log: scratch.path + "/follow.log")
        usleep(1_500_000)
        _ = follower.stop(grace: 10)
        let followLog = (try? String(contentsOfFile: scratch.path + "/follow.log", encoding: .utf8)) ?? ""
        for output in [check.stdoutText, check.stderr, drain.stderr, followLog] {
            #expect(!output.contains("hunter2"), "\(output)")
        }
        #expect(drain.stderr.contains("***@127.0.0.1"), "\(drain.stderr)")
    }
}
