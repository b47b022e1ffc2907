import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real nginx with the shipped server blocks (only their placeholders set).
@Suite("Behind nginx")
struct NginxTests {
    @Test func fastcgiPassToServeOverTCP() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 2, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        // No proxy is trusted by default: a forged X-Forwarded-For changes nothing.
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool, headers: ["X-Forwarded-For: 6.6.6.6"])
        // The shipped request-line limit lets pixelgate give its own 414.
        let long = try httpRequest("http://127.0.0.1:\(port)/pixel/v1/page?writeKey=wk&anonymousId=a&p=" + String(repeating: "x", count: 17_000))
        #expect(long.status == 414)
        #expect(long.text == "query string too long")
        nginx.stop()
        #expect(serve.stop().status == 0)
    }

    /// nginx keeps FastCGI connections open (`fastcgi_keep_conn on`, an
    /// upstream keepalive pool) to a threaded `serve`: every hit is answered
    /// and stored once, connections really stay open, and SIGTERM still stops
    /// every thread promptly.
    @Test func keptConnectionsToThreadedServe() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 2, threads: 64, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve-keepalive.conf",
                                     [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool)

        // 8 clients × 150 hits at once; curl fetches its URLs one after another.
        let statuses = LockedArray<String>()
        onThreads(8) { client in
            let urls = (0..<150).map { "http://127.0.0.1:\(port)/pixel/v1/page?writeKey=wk&anonymousId=c\(client)-\($0)" }
            let out = (try? runProcess("/usr/bin/curl", ["-s", "-w", "%{http_code}\\n"] + urls.flatMap { ["-o", "/dev/null", $0] },
                                       environment: nil).stdout) ?? []
            statuses.append(contentsOf: String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init))
        }
        #expect(statuses.values.count == 1200)
        #expect(statuses.values.allSatisfy { $0 == "200" })
        // The pool holds connections to pixelgate open between requests.
        #expect(establishedConnections(toPort: backend) > 0)

        let ids = try spooledEvents(spool).compactMap { ($0["event"] as? [String: Any])?["anonymousId"] as? String }
        #expect(ids.count == 1202)
        #expect(Set(ids).count == 1201)  // exerciseDeployment sends visitor-1 twice
        nginx.stop()
        let stopped = serve.stop()
        #expect(stopped.status == 0, "\(stopped.log)")
    }

    /// The shipped set-up: `serve` on a unix socket 0660 in the web
    /// server's group, nginx's workers running as www-data.
    @Test func fastcgiPassToServeOverUnixSocket() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let port = freePort()
        let socketPath = scratch.path + "/pixelgate.sock"
        let serve = try ServeProcess(listen: socketPath, workers: 2, environment: ["PIXELGATE_SPOOL_DIR": spool], socketGroup: "www-data")
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "unix:" + socketPath)])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx", user: "www-data")
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool)
        nginx.stop()
        #expect(serve.stop().status == 0)
    }

    /// The include for a site nginx already serves over HTTPS: the pixel
    /// routes go to `serve`, every other path stays the site's. The shipped
    /// file as it is, in a TLS server block with a certificate of its own,
    /// which curl verifies.
    @Test func aLocationIncludedInAnExistingHTTPSServer() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let port = freePort()
        let socketPath = scratch.path + "/pixelgate.sock"
        let serve = try ServeProcess(listen: socketPath, workers: 1, environment: ["PIXELGATE_SPOOL_DIR": spool], socketGroup: "www-data")
        let cert = scratch.path + "/cert.pem", key = scratch.path + "/key.pem"
        let made = try runProcess("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                                       "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                                  environment: ["PATH": "/usr/bin:/bin"], mergeStderr: true)
        #expect(made.status == 0, "\(made.stdoutText)")
        let snippet = scratch.path + "/pixelgate-location.conf"
        try shippedConfig("nginx-conf/pixelgate-location.conf", [(shippedSocket, "unix:" + socketPath)])
            .write(toFile: snippet, atomically: true, encoding: .utf8)
        let site = """
            server {
                listen 127.0.0.1:\(port) ssl;
                ssl_certificate \(cert);
                ssl_certificate_key \(key);
                location / { default_type text/plain; return 200 "the site"; }
                include \(snippet);
            }
            """
        let nginx = try startNginx(serverBlock: site, port: port, in: scratch.path + "/nginx", user: "www-data")
        try exerciseDeployment(base: "https://127.0.0.1:\(port)", spool: spool, caFile: cert)
        let page = try httpRequest("https://127.0.0.1:\(port)/about", caFile: cert)
        #expect(page.status == 200 && page.text == "the site")
        let near = try httpRequest("https://127.0.0.1:\(port)/pixel/v1/pages", caFile: cert)
        #expect(near.status == 200 && near.text == "the site", "only the pixel routes are pixelgate's")
        nginx.stop()
        #expect(serve.stop().status == 0)
    }

    @Test func spawnFcgiWithTheSocketOnStdin() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let port = freePort()
        let socketPath = scratch.path + "/spawned.sock"
        let spawned = try Daemon("spawn-fcgi", "/usr/bin/spawn-fcgi", ["-n", "-s", socketPath, "-M", "0666", "--", pixelgateBinary],
                                 environment: ["PIXELGATE_SPOOL_DIR": spool], log: scratch.path + "/spawn.log")
        #expect(waitForUnixSocket(socketPath))
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "unix:" + socketPath)])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool)
        nginx.stop()
        #expect(spawned.stop())
        #expect(spawned.child.exitCode == 0)
    }

    @Test func fcgiwrapRunsItAsPlainCGI() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let port = freePort()
        let socketPath = scratch.path + "/fcgiwrap.sock"
        let fcgiwrap = try Daemon("fcgiwrap", "/usr/sbin/fcgiwrap", ["-s", "unix:" + socketPath, "-c", "2"], log: scratch.path + "/fcgiwrap.log")
        #expect(waitForUnixSocket(socketPath))
        let conf = try shippedConfig("nginx-conf/pixelgate-fcgiwrap.conf", [
            ("127.0.0.1:8080", "127.0.0.1:\(port)"), ("unix:/run/fcgiwrap.socket", "unix:" + socketPath),
            ("/usr/local/lib/pixelgate/pixelgate", pixelgateBinary), ("/var/spool/pixelgate", spool),
        ])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool)
        nginx.stop()
        fcgiwrap.stop()
    }

    @Test func clientAddressResolvedByNginxRealIP() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let realip = try shippedConfig("nginx-conf/pixelgate-realip.conf", [("10.0.0.0/8", "127.0.0.1")])
        try FileManager.default.createDirectory(atPath: scratch.path + "/nginx", withIntermediateDirectories: true)
        try realip.write(toFile: scratch.path + "/nginx/realip.conf", atomically: true, encoding: .utf8)
        var conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        conf = conf.replacingOccurrences(of: "listen 127.0.0.1:\(port);", with: "listen 127.0.0.1:\(port);\n    include \(scratch.path)/nginx/realip.conf;")
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        // The load balancer (here 127.0.0.1) appended what it saw; left of it
        // is the client's own claim, which must not count.
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool, expectIP: "203.0.113.9", headers: ["X-Forwarded-For: 6.6.6.6, 203.0.113.9"])
        nginx.stop()
        #expect(serve.stop().status == 0)
    }

    @Test func clientAddressResolvedByPixelgateTrustedProxies() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1,
                                     environment: ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_TRUSTED_PROXIES": "127.0.0.1"])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool, expectIP: "203.0.113.9", headers: ["X-Forwarded-For: 6.6.6.6, 203.0.113.9"])
        nginx.stop()
        #expect(serve.stop().status == 0)
    }
}

/// TCP connections in ESTABLISHED state whose remote end is 127.0.0.1:`port`.
func establishedConnections(toPort port: Int) -> Int {
    // Read to the end: a /proc file reports size 0, and a one-shot read of
    // it stops after the first page.
    let table = String(decoding: FileHandle(forReadingAtPath: "/proc/net/tcp")?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
    let hex = String(port, radix: 16, uppercase: true)
    let remote = "0100007F:" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    return table.split(separator: "\n").dropFirst().filter { line in
        let fields = line.split(separator: " ")
        return fields.count > 3 && fields[2] == remote && fields[3] == "01"
    }.count
}

/// Every event line in the spool's files, parsed.
func spooledEvents(_ spool: String) throws -> [[String: Any]] {
    try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".ndjson") }.flatMap { name in
        try String(contentsOfFile: spool + "/" + name, encoding: .utf8).split(separator: "\n").map { try jsonObject(String($0)) }
    }
}

/// An array several threads append to.
final class LockedArray<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Element] = []
    func append(contentsOf more: [Element]) { lock.lock(); items += more; lock.unlock() }
    var values: [Element] { lock.lock(); defer { lock.unlock() }; return items }
}
