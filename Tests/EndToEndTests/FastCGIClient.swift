import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal FastCGI client (responder role, one request per connection),
/// enough to talk to pixelgate the way nginx's fastcgi_pass does.
struct FastCGIClient {
    enum Address {
        case unix(String)
        case tcp(String, Int)
    }

    let address: Address

    struct Response {
        var stdout: [UInt8]
        var text: String { String(decoding: stdout, as: UTF8.self) }
        /// The `Status:` code of the CGI response.
        var status: Int? {
            guard let line = text.split(separator: "\r\n").first, line.hasPrefix("Status: ") else { return nil }
            return Int(line.dropFirst(8).prefix(3))
        }
        var body: String {
            guard let r = text.range(of: "\r\n\r\n") else { return "" }
            return String(text[r.upperBound...])
        }
    }

    func connect() throws -> Int32 {
        switch address {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
            }
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            if rc != 0 { close(fd); throw TestFailure("connect \(path): errno \(errno)") }
            return fd
        case .tcp(let host, let port):
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr(host)
            addr.sin_port = UInt16(port).bigEndian
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if rc != 0 { close(fd); throw TestFailure("connect \(host):\(port): errno \(errno)") }
            return fd
        }
    }

    static func record(_ type: UInt8, _ content: [UInt8]) -> [UInt8] {
        [1, type, 0, 1, UInt8(content.count >> 8), UInt8(content.count & 0xFF), 0, 0] + content
    }

    /// Parameters as FastCGI name-value pairs.
    static func encode(_ params: [String: String]) -> [UInt8] {
        var encoded: [UInt8] = []
        for (name, value) in params {
            encoded += lengthBytes(name.utf8.count) + lengthBytes(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
        }
        return encoded
    }

    static func lengthBytes(_ n: Int) -> [UInt8] {
        n < 128 ? [UInt8(n)] : [UInt8((n >> 24) | 0x80), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
    }

    func request(_ params: [String: String]) throws -> Response {
        let fd = try connect()
        defer { close(fd) }
        return try request(params, on: fd)
    }

    /// Sends one request on `fd` (then `trailing`, bytes no web server
    /// sends) and reads its answer; `fd` stays open.
    func request(_ params: [String: String], on fd: Int32, trailing: [UInt8] = []) throws -> Response {
        var out = FastCGIClient.record(1, [0, 1, 0, 0, 0, 0, 0, 0])  // BEGIN_REQUEST, responder
        let encoded = FastCGIClient.encode(params)
        var offset = 0
        while offset < encoded.count {
            let chunk = Array(encoded[offset..<min(offset + 65_535, encoded.count)])
            out += FastCGIClient.record(4, chunk)
            offset += chunk.count
        }
        out += FastCGIClient.record(4, []) + FastCGIClient.record(5, []) + trailing
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestFailure("send: errno \(errno)") }
            sent += n
        }
        var input: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var stdout: [UInt8] = []
        while true {
            // Parse whole records from what has arrived.
            while input.count >= 8 {
                let length = Int(input[4]) << 8 | Int(input[5])
                let total = 8 + length + Int(input[6])
                guard input.count >= total else { break }
                let type = input[1]
                if type == 6 { stdout += input[8..<(8 + length)] }
                if type == 3 { return Response(stdout: stdout) }
                input.removeFirst(total)
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { throw TestFailure("connection closed before END_REQUEST (got \(stdout.count) bytes)") }
            input += buffer[0..<n]
        }
    }

    /// A GET for `uri` with the parameters nginx's fastcgi_params sends.
    func get(_ uri: String, method: String = "GET", remoteAddr: String = "198.51.100.23", userAgent: String = "e2e-test/1.0") throws -> Response {
        try request(FastCGIClient.params(uri, method: method, remoteAddr: remoteAddr, userAgent: userAgent))
    }

    static func params(_ uri: String, method: String = "GET", remoteAddr: String = "198.51.100.23",
                       userAgent: String = "e2e-test/1.0") -> [String: String] {
        let query = uri.firstIndex(of: "?").map { String(uri[uri.index(after: $0)...]) } ?? ""
        return [
            "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": query,
            "SCRIPT_NAME": String(uri.prefix { $0 != "?" }), "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": remoteAddr, "HTTP_USER_AGENT": userAgent,
        ]
    }
}

/// A GET sent on a thread of its own, for tests that check whether it is
/// answered while something else holds the worker.
final class PendingGet: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = LockedArray<Int>()

    init(_ client: FastCGIClient, _ uri: String) {
        Thread.detachNewThread { [result, done] in
            result.append(contentsOf: [(try? client.get(uri).status ?? -1) ?? -2])
            done.signal()
        }
    }

    /// Whether the answer came within `seconds` (once true, not again).
    func answered(within seconds: Double) -> Bool { done.wait(timeout: .now() + seconds) == .success }

    /// The answer's status: -1 without one, -2 when the exchange failed.
    var statuses: [Int] { result.values }
}

/// `pixelgate serve` running for one test; stopped with SIGTERM.
final class ServeProcess {
    let child: ChildProcess
    let listen: String
    let logPath: String

    /// `threads` nil: serve's own default, which is what most tests should see.
    init(listen: String, workers: Int, threads: Int? = nil, environment: [String: String], socketMode: String? = nil,
         socketGroup: String? = nil) throws {
        self.listen = listen
        logPath = NSTemporaryDirectory() + "pixelgate-serve-\(UUID().uuidString.prefix(8)).log"
        child = try ChildProcess(pixelgateBinary, ["serve", "--listen", listen, "--workers", String(workers)]
                                     + (threads.map { ["--threads", String($0)] } ?? [])
                                     + (socketMode.map { ["--socket-mode", $0] } ?? [])
                                     + (socketGroup.map { ["--socket-group", $0] } ?? []),
                                 environment: environment, log: logPath)
        let client = self.client
        guard waitUntil({ (try? client.connect()).map { close($0); return true } ?? false }) else {
            throw TestFailure("pixelgate serve did not start listening on \(listen): \(log)")
        }
        // The socket accepts (into its backlog) before the workers exist;
        // tests that look at workers need them all started.
        let child = self.child
        guard waitUntil({ child.children.count >= workers }) else {
            throw TestFailure("pixelgate serve did not start \(workers) workers: \(log)")
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var client: FastCGIClient {
        if listen.hasPrefix("/") { return FastCGIClient(address: .unix(listen)) }
        let parts = listen.split(separator: ":")
        return FastCGIClient(address: .tcp(String(parts[0]), Int(parts[1])!))
    }

    /// Sends SIGTERM and waits; returns the exit status and what was logged.
    /// A server still running after 20 s is killed and reported as -1; one
    /// whose workers the supervisor had to kill is reported as -2.
    func stop() -> (status: Int32, log: String) {
        let stopped = stopQuietly()
        // A stop that was not clean says what serve logged, whatever the
        // caller checks (it has been seen, rarely, only under TSan).
        if stopped.status != 0 { print("serve did not stop cleanly (\(stopped.status)): \(stopped.log)") }
        return stopped
    }

    private func stopQuietly() -> (status: Int32, log: String) {
        let workers = child.children
        guard child.stop(grace: 20) else {
            workers.forEach { kill($0, SIGKILL) }
            return (-1, log + "\n(did not stop on SIGTERM)")
        }
        let text = log
        try? FileManager.default.removeItem(atPath: logPath)
        if text.contains("did not stop within") { return (-2, text) }
        return (child.exitCode ?? -3, text)
    }

    /// PIDs of the worker processes (children of the supervisor).
    var workerPIDs: [Int32] { child.children }
}
