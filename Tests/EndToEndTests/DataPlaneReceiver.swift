import Foundation

/// Tests/DataPlane/receiver.py running on 127.0.0.1: a strict stand-in for
/// the RudderStack data plane, with faults on demand.
final class DataPlaneReceiver {
    let port: Int
    let dir: String
    let keys: [String]
    private var child: ChildProcess?

    var url: String { "http://127.0.0.1:\(port)" }
    var eventsFile: String { dir + "/received.ndjson" }
    var faultsFile: String { dir + "/faults" }

    init(dir: String, keys: [String] = ["wk"], port: Int = freePort()) {
        self.dir = dir
        self.keys = keys
        self.port = port
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func start() throws {
        child = try ChildProcess("/usr/bin/python3", [repositoryRoot + "/Tests/DataPlane/receiver.py", "--port", String(port),
                                 "--keys", keys.joined(separator: ","), "--events", eventsFile, "--faults", faultsFile],
                                 environment: ["PATH": "/usr/bin:/bin"], log: dir + "/receiver.log")
        guard waitForPort(port) else { throw TestFailure("receiver did not start: \((try? String(contentsOfFile: dir + "/receiver.log", encoding: .utf8)) ?? "")") }
    }

    func stop() { child?.stop(grace: 5); child = nil }

    /// Faults for the next requests, one per request, in order.
    func inject(_ faults: [String]) throws {
        try faults.map { $0 + "\n" }.joined().write(toFile: faultsFile, atomically: true, encoding: .utf8)
    }

    var pendingFaults: Int {
        ((try? String(contentsOfFile: faultsFile, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    /// The Content-Encoding of each authorised request, in order.
    var encodings: [String] {
        ((try? String(contentsOfFile: eventsFile + ".encodings", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Every event received, as (writeKey, event).
    func received() throws -> [(writeKey: String, event: [String: Any])] {
        let text = (try? String(contentsOfFile: eventsFile, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let object = try jsonObject(String(line))
            return (object["writeKey"] as? String ?? "", object["event"] as? [String: Any] ?? [:])
        }
    }

    deinit { stop() }
}
