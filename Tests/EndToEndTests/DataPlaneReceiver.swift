import Foundation

/// Tests/DataPlane/receiver.py running on 127.0.0.1: a strict stand-in for
/// the RudderStack data plane, with faults on demand (see that file's
/// docstring for every answer it gives).
///
/// The settings given to `init` apply to every `start()`; a `start` argument
/// overrides one of them for that run only. `stop()` then `start()` brings it
/// back on the same port, e.g. with `redirect:` to play a moved endpoint.
final class DataPlaneReceiver {
    let port: Int
    let dir: String
    let keys: [String]
    /// Seconds added to the arrival time of requests to make `receivedAt`
    /// (a drain that runs that long after the hits).
    let clockOffsetSeconds: Double
    /// Every POST answers 301 with this Location.
    let redirect: String?
    /// Every POST answers 404 "404 page not found".
    let notFound: Bool
    /// A request with an event of one of these anonymousIds answers 400, the
    /// whole batch refused.
    let refuseIds: [String]
    /// Write keys of disabled sources: 404 "source is disabled".
    let disabledKeys: [String]
    private var child: ChildProcess?

    var url: String { "http://127.0.0.1:\(port)" }
    var eventsFile: String { dir + "/received.ndjson" }
    var faultsFile: String { dir + "/faults" }
    var requestsFile: String { eventsFile + ".requests" }
    var logFile: String { dir + "/receiver.log" }

    init(dir: String, keys: [String] = ["wk"], port: Int = freePort(), clockOffsetSeconds: Double = 0,
         redirect: String? = nil, notFound: Bool = false, refuseIds: [String] = [], disabledKeys: [String] = []) {
        self.disabledKeys = disabledKeys
        self.dir = dir
        self.keys = keys
        self.port = port
        self.clockOffsetSeconds = clockOffsetSeconds
        self.redirect = redirect
        self.notFound = notFound
        self.refuseIds = refuseIds
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    /// Starts the receiver (stopping a running one first) and returns once it
    /// accepts connections. Nil arguments take the values given to `init`.
    func start(clockOffsetSeconds: Double? = nil, redirect: String? = nil, notFound: Bool? = nil,
               refuseIds: [String]? = nil) throws {
        stop()
        var arguments = [repositoryRoot + "/Tests/DataPlane/receiver.py", "--port", String(port),
                         "--keys", keys.joined(separator: ","), "--events", eventsFile, "--faults", faultsFile,
                         "--clock-offset", String(clockOffsetSeconds ?? self.clockOffsetSeconds)]
        if let location = redirect ?? self.redirect { arguments += ["--redirect", location] }
        if notFound ?? self.notFound { arguments.append("--not-found") }
        let refused = refuseIds ?? self.refuseIds
        if !refused.isEmpty { arguments += ["--refuse-ids", refused.joined(separator: ",")] }
        if !disabledKeys.isEmpty { arguments += ["--disabled-keys", disabledKeys.joined(separator: ",")] }
        let process = try ChildProcess("/usr/bin/python3", arguments, environment: ["PATH": "/usr/bin:/bin"], log: logFile)
        child = process
        // The receiver prints this line once it listens; the pid tells this
        // run from an earlier one in the same log, and an exit (port taken,
        // bad flag) ends the wait at once.
        let ready = "receiver ready: pid \(process.pid) port \(port)"
        let log = logFile
        let up = waitUntil(seconds: 10) {
            !process.isRunning || ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(ready)
        }
        guard up, process.isRunning else {
            stop()
            throw TestFailure("receiver did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }

    /// Stops it (SIGTERM, then SIGKILL after 5 s); the port is free again
    /// when this returns.
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
        try receivedWithTime().map { (writeKey: $0.writeKey, event: $0.event) }
    }

    /// Every event received, with the `timestamp` rudder-server's processor
    /// would give it (UTC, `2026-11-27T13:26:12.345Z`).
    func receivedWithTime() throws -> [(writeKey: String, event: [String: Any], timestamp: String)] {
        let text = (try? String(contentsOfFile: eventsFile, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let object = try jsonObject(String(line))
            let processed = object["processed"] as? [String: Any] ?? [:]
            return (object["writeKey"] as? String ?? "", object["event"] as? [String: Any] ?? [:],
                    processed["timestamp"] as? String ?? "")
        }
    }

    /// One entry per request that reached the write-key check, in order:
    /// "status" and "events" (numbers), "encoding", "userAgent", "path".
    func requests() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: requestsFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? jsonObject(String($0)) }
    }

    deinit { stop() }
}
