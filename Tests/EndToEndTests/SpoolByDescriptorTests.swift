import Foundation
import Testing

/// The spool against another member of its group, with real accounts
/// (issue 26): www-data (the web server's user in README's set-up) holding
/// the spool's locks or planting a file no seal makes, and root's `stats`
/// and drain meeting them.
@Suite("The spool against another member of its group")
struct SpoolByDescriptorTests {
    static let asWebServer = ["/usr/bin/setpriv", "--reuid=33", "--regid=33", "--init-groups"]

    /// `.lock` held by a group member made every hit wait without end. A
    /// hit now waits the request timeout, then is answered 503 (and its
    /// event is not stored); once the lock is let go, hits are stored.
    @Test func aHeldSpoolLockGets503NotAnEndlessWait() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let hit = { (id: String) throws -> ProcessResult in
            try runProcess(Self.asWebServer[0], Array(Self.asWebServer.dropFirst()) + [pixelgateBinary],
                           environment: cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=\(id)", spool: spool,
                                                       extra: ["PIXELGATE_REQUEST_TIMEOUT": "1s"]))
        }
        #expect(try hit("before").stdoutText.hasSuffix("OK"))
        let holder = try ChildProcess(Self.asWebServer[0], Array(Self.asWebServer.dropFirst()) + ["/usr/bin/flock", "-o", spool + "/.lock", "sleep", "60"],
                                      environment: ["PATH": "/usr/bin:/bin"], log: scratch.path + "/holder.log")
        #expect(waitUntil { ((try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? "").contains("FLOCK") && holder.children.count > 0 })
        let held = try hit("held")
        #expect(held.stdoutText.hasPrefix("Status: 503 Service Unavailable\r\n"), "\(held.stdoutText)")
        #expect(held.stderr.contains("held by another process for over 1000 ms"), "\(held.stderr)")
        #expect(holder.stop(grace: 5))
        #expect(try hit("after").stdoutText.hasSuffix("OK"))
        let stored = scratch.spoolLines.joined()
        #expect(scratch.spoolLines.count == 2 && stored.contains("\"before\"") && stored.contains("\"after\"") && !stored.contains("\"held\""))
    }

    /// `.drain.lock` held by a group member: every `drain --once` said
    /// "another drain is at work" and exited 0 while the backlog grew. Held
    /// with no progress for longer than a pass can take, it is now an
    /// error, exit 1, naming the file and how to find its holder.
    @Test func aDrainLockHeldOnIsAnError() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        #expect(try runPixelgate(environment: cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=waiting", spool: spool)).stdoutText.hasSuffix("OK"))
        let lock = spool + "/.drain.lock"
        let holder = try ChildProcess(Self.asWebServer[0], Array(Self.asWebServer.dropFirst()) + ["/bin/sh", "-c", "exec /usr/bin/flock -o \"$0\" sleep 60", lock],
                                      environment: ["PATH": "/usr/bin:/bin"], log: scratch.path + "/holder.log")
        defer { _ = holder.stop(grace: 5) }
        #expect(waitUntil { holder.children.count > 0 })
        let env = ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_DATA_PLANE_URL": "http://127.0.0.1:9/"]
        let fresh = try runPixelgate(["drain", "--once"], environment: env)
        #expect(fresh.status == 0 && fresh.stderr.contains("another drain is at work"), "\(fresh.stderr)")
        #expect(try runProcess("/usr/bin/touch", ["-d", "1 hour ago", lock]).status == 0)
        let stuck = try runPixelgate(["drain", "--once"], environment: env)
        #expect(stuck.status == 1, "\(stuck.stderr)")
        #expect(stuck.stderr.contains("\(lock) has been held for") && stuck.stderr.contains("fuser -v \(lock)"), "\(stuck.stderr)")
    }

    /// A group member's 64 GB sparse file, sorting before every sealed
    /// file: `stats` and the drain aborted allocating its size, and nothing
    /// after it was delivered. `stats` now skips it; the drain sets it
    /// aside in rejected/ with a warning and delivers the rest.
    @Test func aHugeSparseFileStopsNeitherStatsNorTheDrain() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let receiver = DataPlaneReceiver(dir: scratch.path + "/dp")
        try receiver.start()
        for i in 0..<3 {
            #expect(try runPixelgate(environment: cgiEnvironment("/pixel/v1/page?writeKey=wk&anonymousId=v\(i)", spool: spool)).stdoutText.hasSuffix("OK"))
        }
        let huge = spool + "/sealed-00000000T000000.000000000Z-1-00000000.ndjson"
        #expect(try runProcess(Self.asWebServer[0], Array(Self.asWebServer.dropFirst()) + ["/usr/bin/truncate", "-s", "64G", huge],
                               environment: ["PATH": "/usr/bin:/bin"]).status == 0)
        let env = ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_DATA_PLANE_URL": receiver.url]
        let stats = try runPixelgate(["stats", "--json"], environment: env)
        #expect(stats.status == 0, "\(stats.stderr)")
        let drain = try runPixelgate(["drain", "--once"], environment: env)
        #expect(drain.status == 0, "\(drain.stderr)")
        #expect(drain.stderr.contains("more than a seal makes"), "\(drain.stderr)")
        #expect(try receiver.received().count == 3)
        #expect(FileManager.default.fileExists(atPath: spool + "/rejected/oversized-sealed-00000000T000000.000000000Z-1-00000000.ndjson"))
    }
}
