import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The repository root, for the shipped configuration files.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A shipped configuration file with its documented placeholders replaced.
/// Each placeholder must occur in the file: a test of a file that no longer
/// has them fails rather than testing something else.
func shippedConfig(_ relativePath: String, _ replacements: [(String, String)]) throws -> String {
    var text = try String(contentsOfFile: repositoryRoot + "/" + relativePath, encoding: .utf8)
    for (placeholder, value) in replacements {
        guard text.contains(placeholder) else { throw TestFailure("\(relativePath) has no placeholder \(placeholder)") }
        text = text.replacingOccurrences(of: placeholder, with: value)
    }
    return text
}

/// A long-running child (a web server, fcgiwrap, spawn-fcgi) that is
/// killed, with its own children, when the value goes.
final class Daemon {
    let child: ChildProcess
    let name: String
    private let log: String

    init(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String] = [:], log: String) throws {
        self.name = name
        self.log = log
        var env = environment
        env["PATH"] = env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        child = try ChildProcess(executable, arguments, environment: env, log: log)
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func descendants(of pid: Int32) -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        let children = text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return children + children.flatMap(descendants(of:))
    }

    /// SIGTERM, then SIGKILL for anything left, descendants included
    /// (fcgiwrap's children outlive their parent's SIGTERM). Returns whether
    /// the daemon itself stopped on SIGTERM.
    @discardableResult
    func stop() -> Bool {
        let family = descendants(of: child.pid)
        let clean = child.stop(grace: 10)
        for pid in family { kill(pid, SIGKILL) }
        return clean
    }

    deinit { stop() }
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
func waitForPort(_ port: Int) -> Bool {
    waitUntil {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }
}

/// Waits until a unix socket at `path` takes connections: the file exists
/// from bind(), a moment before listen() (spawn-fcgi binds, listens, then
/// execs), and a connect in between is refused.
func waitForUnixSocket(_ path: String, seconds: Double = 10) -> Bool {
    waitUntil(seconds: seconds) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } } == 0
    }
}

/// Whether a process run as another account (`setpriv` arguments) can
/// connect to the unix socket at `path`, as that account's web server would.
func connects(to path: String, as account: [String]) throws -> Bool {
    let probe = "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1])\nexcept OSError as e:\n    print(e)\n    sys.exit(1)\n"
    return try runProcess("/usr/bin/setpriv", account + ["/usr/bin/python3", "-c", probe, path], environment: nil).status == 0
}

/// Where the shipped nginx, Apache and systemd files have `serve` listen:
/// a unix socket (in their `unix:` form), the placeholder tests replace.
let shippedSocket = "unix:/run/pixelgate/pixelgate.sock"

/// Real nginx on 127.0.0.1 with one shipped server block, in a scratch dir.
/// Its workers run as `user` (root unless a test needs the web server's).
func startNginx(serverBlock: String, port: Int, in dir: String, extraServer: String = "", accessLog: String? = nil,
                workers: Int = 1, user: String = "root") throws -> Daemon {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: "/etc/nginx/fastcgi_params", toPath: dir + "/fastcgi_params")
    try serverBlock.write(toFile: dir + "/server.conf", atomically: true, encoding: .utf8)
    let main = """
    # Test harness only: the shipped server block is included as it is.
    user \(user);
    worker_processes \(workers);
    pid \(dir)/nginx.pid;
    error_log \(dir)/error.log;
    events { worker_connections 1024; }
    http {
        \(accessLog.map { "log_format statuses '$status'; access_log \($0) statuses;" } ?? "access_log off;")
        client_body_temp_path \(dir)/body;
        fastcgi_temp_path \(dir)/fastcgi;
        proxy_temp_path \(dir)/proxy;
        types { text/html html; }
        include \(dir)/server.conf;
        \(extraServer)
    }
    """
    try main.write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
    let nginx = try Daemon("nginx", "/usr/sbin/nginx", ["-p", dir, "-c", dir + "/nginx.conf", "-g", "daemon off;"], log: dir + "/stderr.log")
    guard waitForPort(port) else { throw TestFailure("nginx did not start: \(nginx.logText) \((try? String(contentsOfFile: dir + "/error.log", encoding: .utf8)) ?? "")") }
    return nginx
}

/// Real Apache (Debian's apache2, event MPM) on 127.0.0.1 with one shipped
/// snippet inside a virtual host. `directoryExtra` opens a document root
/// with the given AllowOverride, for the shared-hosting case.
func startApache(snippet: String, port: Int, in dir: String, documentRoot: String? = nil, allowOverride: String = "None",
                 preforkWithModCGI: Bool = false, user: String = "www-data", group: String = "www-data") throws -> Daemon {
    try FileManager.default.createDirectory(atPath: dir + "/fcgid", withIntermediateDirectories: true)
    try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir + "/fcgid")
    try snippet.write(toFile: dir + "/snippet.conf", atomically: true, encoding: .utf8)
    // Debian's two CGI set-ups: mod_cgid with a threaded MPM, mod_cgi with prefork.
    let cgi = preforkWithModCGI ? ["mpm_prefork", "cgi"] : ["mpm_event", "cgid"]
    let modules = cgi + ["authz_core", "alias", "env", "headers", "mime", "rewrite", "fcgid", "proxy", "proxy_fcgi", "dir"]
    let docRoot = documentRoot ?? dir
    let conf = """
    # Test harness only: the shipped snippet is included as it is.
    ServerRoot "\(dir)"
    ServerName 127.0.0.1
    Listen 127.0.0.1:\(port)
    PidFile \(dir)/httpd.pid
    DefaultRuntimeDir \(dir)
    ErrorLog \(dir)/error.log
    LogLevel warn
    \(modules.map { "LoadModule \($0)_module /usr/lib/apache2/modules/mod_\($0).so" }.joined(separator: "\n"))
    User \(user)
    Group \(group)
    \(preforkWithModCGI ? "" : "ScriptSock \(dir)/cgid.sock")
    FcgidIPCDir \(dir)/fcgid
    FcgidProcessTableFile \(dir)/fcgid/table
    TypesConfig /etc/mime.types
    <Directory />
        AllowOverride None
        Require all denied
    </Directory>
    <VirtualHost 127.0.0.1:\(port)>
        DocumentRoot "\(docRoot)"
        <Directory "\(docRoot)">
            AllowOverride \(allowOverride)
            Options None
            Require all granted
        </Directory>
        Include \(dir)/snippet.conf
    </VirtualHost>
    """
    try conf.write(toFile: dir + "/httpd.conf", atomically: true, encoding: .utf8)
    let apache = try Daemon("apache2", "/usr/sbin/apache2", ["-f", dir + "/httpd.conf", "-DFOREGROUND"], log: dir + "/stderr.log")
    guard waitForPort(port) else { throw TestFailure("apache did not start: \(apache.logText) \((try? String(contentsOfFile: dir + "/error.log", encoding: .utf8)) ?? "")") }
    return apache
}

struct HTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// One request with curl, a real HTTP client, as a user would send it.
func httpRequest(_ url: String, method: String = "GET", headers: [String] = [], userAgent: String = "pixelgate-integration/1.0",
                 caFile: String? = nil) throws -> HTTPResponse {
    var args = ["-s", "-D", "-", "-o", "-", "-A", userAgent, "--max-time", "20"]
    // HTTPS to a test server: its certificate, verified like any.
    if let caFile { args += ["--cacert", caFile] }
    if method == "HEAD" { args.append("-I") } else if method != "GET" { args += ["-X", method] }
    for h in headers { args += ["-H", h] }
    args.append(url)
    let data = try runProcess("/usr/bin/curl", args, environment: nil).stdout
    guard let split = data.firstRange(of: Array("\r\n\r\n".utf8)) else { throw TestFailure("no HTTP answer from \(url)") }
    let head = String(decoding: data[..<split.lowerBound], as: UTF8.self).split(separator: "\r\n")
    guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ")[1]) else { throw TestFailure("bad status line") }
    var headers: [String: String] = [:]
    for line in head.dropFirst() {
        if let colon = line.firstIndex(of: ":") {
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
    return HTTPResponse(status: status, headers: headers, body: Array(data[split.upperBound...]))
}

/// The checks every deployment must pass, through the real server at `base`:
/// a page and a track hit spooled with the server-given address and user
/// agent, refusals with their reasons, HEAD without a trace, no-cache headers.
func exerciseDeployment(base: String, spool: String, expectIP: String = "127.0.0.1", headers: [String] = [], caFile: String? = nil) throws {
    let page = try httpRequest(base + "/pixel/v1/page?writeKey=wk&anonymousId=visitor-1&name=Home&context.page.url=https%3A%2F%2Fex.com%2F", headers: headers, caFile: caFile)
    guard page.status == 200, page.text == "OK" else { throw TestFailure("page: \(page.status) \(page.text)") }
    // pixelgate sends Content-Length; Apache's mod_cgid and mod_proxy_fcgi
    // re-frame the body as chunked, which is theirs to choose.
    guard page.headers["cache-control"] == "no-store, no-cache, must-revalidate, max-age=0", page.headers["pragma"] == "no-cache",
          page.headers["expires"] == "0", page.headers["content-length"] == "2" || page.headers["transfer-encoding"] == "chunked" else {
        throw TestFailure("page headers: \(page.headers)")
    }
    let track = try httpRequest(base + "/pixel/v1/track?writeKey=wk&anonymousId=visitor-1&event=Signed+Up&properties.plan=pro", headers: headers, caFile: caFile)
    guard track.status == 200, track.text == "OK" else { throw TestFailure("track: \(track.status) \(track.text)") }
    let refused = try httpRequest(base + "/pixel/v1/track?writeKey=wk&anonymousId=visitor-1", headers: headers, caFile: caFile)
    guard refused.status == 400, refused.text == "missing required parameter: event" else { throw TestFailure("refused: \(refused.status) \(refused.text)") }
    let bad = try httpRequest(base + "/pixel/v1/page?writeKey=wk&anonymousId=a&properties.x=%zz", headers: headers, caFile: caFile)
    guard bad.status == 400, bad.text == "invalid percent-encoding in parameter 'properties.x'" else { throw TestFailure("bad escape: \(bad.status) \(bad.text)") }
    let head = try httpRequest(base + "/pixel/v1/page?writeKey=wk&anonymousId=head-probe", method: "HEAD", headers: headers, caFile: caFile)
    guard head.status == 200 else { throw TestFailure("HEAD: \(head.status)") }

    let scratchLines = try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".ndjson") }.flatMap { name in
        try String(contentsOfFile: spool + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
    }
    guard scratchLines.count == 2 else { throw TestFailure("expected 2 spooled events, found \(scratchLines.count): \(scratchLines)") }
    for line in scratchLines {
        let event = try jsonObject(line)["event"] as? [String: Any] ?? [:]
        let context = event["context"] as? [String: Any] ?? [:]
        guard event["request_ip"] as? String == expectIP, context["ip"] as? String == expectIP else {
            throw TestFailure("request_ip \(event["request_ip"] ?? "-"), expected \(expectIP)")
        }
        guard context["userAgent"] as? String == "pixelgate-integration/1.0" else { throw TestFailure("userAgent \(context["userAgent"] ?? "-")") }
        guard event["anonymousId"] as? String == "visitor-1" else { throw TestFailure("anonymousId") }
    }
    let types = Set(try scratchLines.map { (try jsonObject($0)["event"] as? [String: Any])?["type"] as? String ?? "" })
    guard types == ["page", "track"] else { throw TestFailure("types \(types)") }
    let rejected = (try? String(contentsOfFile: spool + "/rejected/hits.ndjson", encoding: .utf8))?.split(separator: "\n").count ?? 0
    guard rejected == 2 else { throw TestFailure("expected 2 rejected hits, found \(rejected)") }
}

/// Copies an executable with /bin/cp. FileManager's copy keeps the new file
/// open for writing in this process, and a server spawned meanwhile by a
/// parallel test inherits that descriptor: exec of the copy then fails with
/// ETXTBSY ("Text file busy").
func copyExecutable(_ source: String, to destination: String) throws {
    guard try runProcess("/bin/cp", [source, destination]).status == 0 else { throw TestFailure("cp \(source) \(destination) failed") }
}

/// Runs `body`; a failure carries the last lines of the server's error log.
func explainingFailures(log path: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch {
        let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        throw TestFailure("\(error)\n--- \(path):\n" + log.split(separator: "\n").suffix(8).joined(separator: "\n"))
    }
}

/// A spool directory every server user can write (Apache runs CGI as www-data).
/// The spool as README's set-up makes it for a web server and a drain
/// (SPEC §7a): owned by root, group www-data, set-group-ID and 2770, so the
/// web server's user (www-data) and root share it and no one else may read it.
func webServerSpool(_ scratch: Scratch) throws -> String {
    try FileManager.default.createDirectory(atPath: scratch.spool, withIntermediateDirectories: true)
    guard chown(scratch.spool, 0, 33) == 0, chmod(scratch.spool, 0o2770) == 0 else {
        throw TestFailure("cannot make \(scratch.spool) root:www-data 2770 (the tests run as root)")
    }
    return scratch.spool
}

/// A copy of pixelgate that other users (www-data, nobody) may run: the
/// build's own path may lie under a home only root can enter.
func binaryOtherUsersCanRun(_ scratch: Scratch) throws -> String {
    let binary = scratch.path + "/pixelgate"
    try copyExecutable(pixelgateBinary, to: binary)
    chmod(scratch.path, 0o755)
    return binary
}

/// Runs `body` with a tmpfs of `size` mounted at `scratch.path/tmpfs` (a
/// real filesystem that fills up), unmounted afterwards. Needs root, as the
/// tests run in CI.
func withTmpfs<T>(_ scratch: Scratch, size: String, _ body: (String) throws -> T) throws -> T {
    let mountPoint = scratch.path + "/tmpfs"
    mkdir(mountPoint, 0o755)
    let mounted = (try? runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint]).status) == 0
    guard mounted else { throw TestFailure("mounting a tmpfs needs root (the tests run as root in CI)") }
    defer { _ = try? runProcess("/bin/umount", [mountPoint]) }
    return try body(mountPoint)
}
