import Foundation
import Testing

/// `serve --listen` is pixelgate's to parse (SPEC §7a): libfcgi used to
/// bind port 34463 for 127.0.0.1:99999, every interface for `:9000`, and a
/// unix socket named after any typo in the current directory.
@Suite("serve --listen")
struct ListenTests {
    @Test(arguments: ["127.0.0.1:99999", "127.0.0.1:0", ":9000", "0:9000x", "[::1]:9000x", "[127.0.0.1]:9000", "::1:9000",
                      "typo", "relative/dir.sock", "host.example:80", "127.0.0.1:", "/", "/tmp/dir/"])
    func anythingElseExits2NamingTheAddress(_ address: String) throws {
        let scratch = Scratch()
        let result = try runProcess("/bin/sh", ["-c", "cd \"$1\" && exec \"$0\" serve --listen \"$2\"", pixelgateBinary, scratch.path, address],
                                    environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(result.status == 2, "\(address): \(result.stderr)")
        #expect(result.stderr.contains("pixelgate: --listen '\(address)' is not"), "\(result.stderr)")
        // Nothing made in the current directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test func theLogNamesTheAddressActuallyBound() throws {
        let scratch = Scratch()
        let port = freePort()
        let serve = try ServeProcess(listen: "localhost:\(port)".replacingOccurrences(of: "localhost", with: "127.0.0.1"), workers: 1,
                                     environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(try serve.client.get("/pixel/v1/page?writeKey=wk&anonymousId=a").status == 200)
        #expect(serve.stop().log.contains("listening on 127.0.0.1:\(port) with 1 worker(s)"))
        // localhost is 127.0.0.1.
        let other = freePort()
        let child = try ChildProcess(pixelgateBinary, ["serve", "--listen", "localhost:\(other)", "--workers", "1"],
                                     environment: ["PIXELGATE_SPOOL_DIR": scratch.spool], log: scratch.path + "/l.log")
        #expect(waitUntil { ((try? String(contentsOfFile: scratch.path + "/l.log", encoding: .utf8)) ?? "").contains("listening on 127.0.0.1:\(other)") })
        #expect(child.stop(grace: 10))
    }

    @Test func ipv6LoopbackListens() throws {
        let scratch = Scratch()
        let port = freePort()
        let child = try ChildProcess(pixelgateBinary, ["serve", "--listen", "[::1]:\(port)", "--workers", "1"],
                                     environment: ["PIXELGATE_SPOOL_DIR": scratch.spool], log: scratch.path + "/v6.log")
        defer { _ = child.stop(grace: 10) }
        #expect(waitUntil { ((try? String(contentsOfFile: scratch.path + "/v6.log", encoding: .utf8)) ?? "").contains("listening on [::1]:\(port)") },
                "\((try? String(contentsOfFile: scratch.path + "/v6.log", encoding: .utf8)) ?? "")")
        let connect = try runProcess("/usr/bin/python3", ["-c", "import socket,sys; socket.create_connection(('::1', int(sys.argv[1])), 5).close()",
                                                           String(port)], environment: [:])
        #expect(connect.status == 0, "\(connect.stderr)")
    }

    /// A busy port or a path that is not a socket: exit 1 with a message,
    /// and the file left alone.
    @Test func bindFailuresExit1AndNothingIsDeleted() throws {
        let scratch = Scratch()
        let port = freePort()
        let first = try ServeProcess(listen: "127.0.0.1:\(port)", workers: 1, environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        let busy = try runPixelgate(["serve", "--listen", "127.0.0.1:\(port)"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(busy.status == 1)
        #expect(busy.stderr.contains("cannot listen on 127.0.0.1:\(port): bind: Address already in use"), "\(busy.stderr)")
        #expect(first.stop().status == 0)

        let file = scratch.path + "/important.txt"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: file))
        let notSocket = try runPixelgate(["serve", "--listen", file], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(notSocket.status == 1)
        #expect(notSocket.stderr.contains("exists and is not a socket"), "\(notSocket.stderr)")
        #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "keep me")
    }

    /// A socket left by a killed run is taken over; one in use is not.
    @Test func onlyAStaleSocketIsReplaced() throws {
        let scratch = Scratch()
        let path = scratch.path + "/pg.sock"
        let running = try ServeProcess(listen: path, workers: 1, environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        let second = try runPixelgate(["serve", "--listen", path], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(second.status == 1)
        #expect(second.stderr.contains("is in use by another server"), "\(second.stderr)")
        #expect(try running.client.get("/pixel/v1/page?writeKey=wk&anonymousId=a").status == 200)
        // Killed without cleaning up: the socket file stays, stale.
        for worker in running.workerPIDs { kill(worker, SIGKILL) }
        kill(running.child.pid, SIGKILL)
        _ = running.child.stop(grace: 5)
        #expect(FileManager.default.fileExists(atPath: path))
        let again = try ServeProcess(listen: path, workers: 1, environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        #expect(try again.client.get("/pixel/v1/page?writeKey=wk&anonymousId=b").status == 200)
        #expect(again.stop().status == 0)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// The private door (issue 25): a unix socket is 0660 in the group
    /// `--socket-group` names, and nobody outside it can connect; the
    /// socket is never, even for a moment, open to more than that.
    @Test func aUnixSocketIsTheWebServerGroupsAlone() throws {
        let scratch = Scratch()
        let path = scratch.path + "/pg.sock"
        let serve = try ServeProcess(listen: path, workers: 1, environment: ["PIXELGATE_SPOOL_DIR": scratch.spool], socketGroup: "www-data")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o660)
        #expect((attributes[.groupOwnerAccountName] as? String) == "www-data")
        #expect(try connects(to: path, as: ["--reuid=33", "--regid=33", "--init-groups"]))
        #expect(try !connects(to: path, as: ["--reuid=65534", "--regid=65534", "--clear-groups"]))
        #expect(try serve.client.get("/pixel/v1/page?writeKey=wk&anonymousId=a").status == 200)
        let log = serve.stop().log
        #expect(!log.contains("warn"), "\(log)")
    }

    /// Mistakes in the door's settings are caught at start, each with what
    /// to do: a socket in a directory others may change (who could swap it
    /// for a link before its mode is set), a group pixelgate is not in, a
    /// group that does not exist; a socket every user may use is warned of.
    @Test func doorMistakesAreCaught() throws {
        let scratch = Scratch()
        let env = ["PIXELGATE_SPOOL_DIR": scratch.spool]
        let open = scratch.path + "/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let swappable = try runPixelgate(["serve", "--listen", open + "/pg.sock"], environment: env)
        #expect(swappable.status == 1)
        #expect(swappable.stderr.contains("its directory \(open) (owner root, mode 0777) can be changed by others"), "\(swappable.stderr)")
        #expect(!FileManager.default.fileExists(atPath: open + "/pg.sock"))

        let noGroup = try runPixelgate(["serve", "--listen", scratch.path + "/a.sock", "--socket-group", "no-such-group"], environment: env)
        #expect(noGroup.status == 2)
        #expect(noGroup.stderr.contains("--socket-group takes a group on this system"), "\(noGroup.stderr)")

        // nobody may make a socket in its own directory, but not give it www-data.
        let own = scratch.path + "/nobody"
        try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: true, attributes: [.ownerAccountID: 65534])
        let notMember = try runProcess("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", pixelgateBinary,
                                                              "serve", "--listen", own + "/pg.sock", "--socket-group", "www-data"], environment: env)
        #expect(notMember.status == 1)
        #expect(notMember.stderr.contains("cannot give it group www-data: nobody is not a member of it"), "\(notMember.stderr)")
        #expect(!FileManager.default.fileExists(atPath: own + "/pg.sock"))

        let everyone = try ServeProcess(listen: scratch.path + "/all.sock", workers: 1, environment: env, socketMode: "0666")
        #expect(everyone.stop().log.contains("has mode 0666: every local user may send hits"))
    }
}
