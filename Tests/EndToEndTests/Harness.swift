import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The pixelgate binary under test: `PIXELGATE_BIN`, else the debug build.
let pixelgateBinary: String = {
    if let path = ProcessInfo.processInfo.environment["PIXELGATE_BIN"], !path.isEmpty { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/pixelgate").path
}()

/// A temporary directory for one test, removed when the value goes.
final class Scratch: Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "pixelgate-e2e-" + UUID().uuidString.prefix(8)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A scratch directory at `path` (a mount point a test made), emptied afterwards.
    init(path: String) {
        self.path = path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    var spool: String { path + "/spool" }

    /// Lines of every accepted-event file (`*.ndjson` outside rejected/).
    var spoolLines: [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).filter { $0.hasSuffix(".ndjson") }
        return names.flatMap { name -> [String] in
            let text = (try? String(contentsOfFile: spool + "/" + name, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").map(String.init)
        }
    }

    var rejectedLines: [String] {
        let text = (try? String(contentsOfFile: spool + "/rejected/hits.ndjson", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }
}

struct ProcessResult {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs `executable` to completion with exactly `environment` (nil: this
/// process's own) and stdin on /dev/null. `mergeStderr` sends stderr to the
/// same pipe as stdout; otherwise it is collected apart.
func runProcess(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = [:], mergeStderr: Bool = false) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = mergeStderr ? out : err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = mergeStderr ? Data() : err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: Array(stdout), stderr: String(decoding: stderr, as: UTF8.self))
}

/// Runs `pixelgate` with exactly `environment` (nothing inherited).
func runPixelgate(_ arguments: [String] = [], environment: [String: String]) throws -> ProcessResult {
    try runProcess(pixelgateBinary, arguments, environment: environment)
}

/// The CGI environment a web server gives for `GET uri`.
func cgiEnvironment(_ uri: String, method: String = "GET", spool: String, extra: [String: String] = [:]) -> [String: String] {
    var env = [
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.23",
        "HTTP_USER_AGENT": "e2e-test/1.0",
        "PIXELGATE_SPOOL_DIR": spool,
    ]
    if let q = uri.firstIndex(of: "?") { env["QUERY_STRING"] = String(uri[uri.index(after: q)...]) } else { env["QUERY_STRING"] = "" }
    for (k, v) in extra { env[k] = v }
    return env
}

/// Parses one JSON line into a dictionary.
func jsonObject(_ line: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
    guard let object = value as? [String: Any] else { throw TestFailure("not a JSON object: \(line)") }
    return object
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs `body(i)` for i in 0..<count on that many threads at once (blocking
/// work must not starve Swift's small cooperative pool).
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    var threads: [Thread] = []
    for i in 0..<count {
        group.enter()
        let t = Thread { body(i); group.leave() }
        t.stackSize = 1 << 20
        threads.append(t)
    }
    threads.forEach { $0.start() }
    group.wait()
}

/// Waits until `condition` holds, polling, for at most `seconds`.
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// A TCP port that was free a moment ago.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}
