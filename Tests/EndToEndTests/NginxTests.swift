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
        let spool = try worldWritableSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 2, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), ("127.0.0.1:9000", "127.0.0.1:\(backend)")])
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

    @Test func fastcgiPassToServeOverUnixSocket() throws {
        let scratch = Scratch()
        let spool = try worldWritableSpool(scratch)
        let port = freePort()
        let socketPath = scratch.path + "/pixelgate.sock"
        let serve = try ServeProcess(listen: socketPath, workers: 2, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), ("127.0.0.1:9000", "unix:" + socketPath)])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool)
        nginx.stop()
        #expect(serve.stop().status == 0)
    }

    @Test func spawnFcgiWithTheSocketOnStdin() throws {
        let scratch = Scratch()
        let spool = try worldWritableSpool(scratch)
        let port = freePort()
        let socketPath = scratch.path + "/spawned.sock"
        let spawned = try Daemon("spawn-fcgi", "/usr/bin/spawn-fcgi", ["-n", "-s", socketPath, "-M", "0666", "--", pixelgateBinary],
                                 environment: ["PIXELGATE_SPOOL_DIR": spool], log: scratch.path + "/spawn.log")
        #expect(waitUntil { FileManager.default.fileExists(atPath: socketPath) })
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), ("127.0.0.1:9000", "unix:" + socketPath)])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool)
        nginx.stop()
        #expect(spawned.stop())
        #expect(spawned.child.exitCode == 0)
    }

    @Test func fcgiwrapRunsItAsPlainCGI() throws {
        let scratch = Scratch()
        let spool = try worldWritableSpool(scratch)
        let port = freePort()
        let socketPath = scratch.path + "/fcgiwrap.sock"
        let fcgiwrap = try Daemon("fcgiwrap", "/usr/sbin/fcgiwrap", ["-s", "unix:" + socketPath, "-c", "2"], log: scratch.path + "/fcgiwrap.log")
        #expect(waitUntil { FileManager.default.fileExists(atPath: socketPath) })
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
        let spool = try worldWritableSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1, environment: ["PIXELGATE_SPOOL_DIR": spool])
        let realip = try shippedConfig("nginx-conf/pixelgate-realip.conf", [("10.0.0.0/8", "127.0.0.1")])
        try FileManager.default.createDirectory(atPath: scratch.path + "/nginx", withIntermediateDirectories: true)
        try realip.write(toFile: scratch.path + "/nginx/realip.conf", atomically: true, encoding: .utf8)
        var conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), ("127.0.0.1:9000", "127.0.0.1:\(backend)")])
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
        let spool = try worldWritableSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1,
                                     environment: ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_TRUSTED_PROXIES": "127.0.0.1"])
        let conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), ("127.0.0.1:9000", "127.0.0.1:\(backend)")])
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        try exerciseDeployment(base: "http://127.0.0.1:\(port)", spool: spool, expectIP: "203.0.113.9", headers: ["X-Forwarded-For: 6.6.6.6, 203.0.113.9"])
        nginx.stop()
        #expect(serve.stop().status == 0)
    }
}
