import Foundation
import Testing

@Suite("In a real browser")
struct BrowserTests {
    /// A page served by nginx embeds the pixel as an <img>; headless Chromium
    /// loads it. The image must load as a 1×1 picture and the event must
    /// carry Chromium's own user agent and the page it was on.
    @Test func pixelImageLoadsInChromium() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let backend = freePort(), port = freePort()
        let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1, environment: ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_RESPONSE": "gif"])
        let www = scratch.path + "/www"
        try FileManager.default.createDirectory(atPath: www, withIntermediateDirectories: true)
        let pixel = "/pixel/v1/page?writeKey=wk&anonymousId=browser-visitor&name=Landing&context.page.url=http%3A%2F%2F127.0.0.1%3A\(port)%2Flanding.html"
        let html = """
        <!doctype html>
        <html><head><title>landing</title></head>
        <body>
        <img id="px" alt="" src="\(pixel)" onload="document.body.dataset.pixel = this.naturalWidth + 'x' + this.naturalHeight" onerror="document.body.dataset.pixel = 'error'">
        </body></html>
        """
        try html.write(toFile: www + "/landing.html", atomically: true, encoding: .utf8)
        var conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
        // The same server also serves the page (test-only location).
        conf = conf.replacingOccurrences(of: "    location ~ /pixel/v1/", with: "    location = /landing.html { root \(www); }\n\n    location ~ /pixel/v1/")
        let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")

        let dom = try runProcess("/usr/bin/chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(scratch.path)/chromium",
            "--virtual-time-budget=10000", "--dump-dom", "http://127.0.0.1:\(port)/landing.html",
        ], environment: nil).stdoutText
        #expect(dom.contains(#"data-pixel="1x1""#), "DOM after load: \(dom)")

        nginx.stop()
        #expect(serve.stop().status == 0)
        let lines = scratch.spoolLines
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        let event = try #require(try jsonObject(line)["event"] as? [String: Any])
        let context = try #require(event["context"] as? [String: Any])
        let userAgent = try #require(context["userAgent"] as? String)
        #expect(userAgent.contains("Chrome/"), "user agent: \(userAgent)")
        #expect(event["anonymousId"] as? String == "browser-visitor")
        #expect((event["properties"] as? [String: Any])?["url"] as? String == "http://127.0.0.1:\(port)/landing.html")
    }
}
