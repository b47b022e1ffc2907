import Foundation
import Testing

@Suite("In a real browser")
struct BrowserTests {
    /// `serve` with a GIF answer behind the shipped nginx server block, which
    /// also serves `page` (test-only location) at `/<name>`.
    struct Site {
        let port: Int
        let nginx: Daemon
        let serve: ServeProcess

        init(_ scratch: Scratch, spool: String, name: String, page: (Int) -> String) throws {
            let backend = freePort(), port = freePort()
            self.port = port
            serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1, environment: ["PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_RESPONSE": "gif"])
            let www = scratch.path + "/www"
            try FileManager.default.createDirectory(atPath: www, withIntermediateDirectories: true)
            try page(port).write(toFile: www + "/" + name, atomically: true, encoding: .utf8)
            var conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
            conf = conf.replacingOccurrences(of: "    location ~ /pixel/v1/", with: "    location = /\(name) { root \(www); }\n\n    location ~ /pixel/v1/")
            nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")
        }

        /// Stops both; whether `serve` stopped cleanly.
        func stop() -> Bool {
            nginx.stop()
            return serve.stop().status == 0
        }
    }

    /// A page served by nginx embeds the pixel as an <img>; headless Chromium
    /// loads it. The image must load as a 1×1 picture and the event must
    /// carry Chromium's own user agent and the page it was on.
    @Test func pixelImageLoadsInChromium() throws {
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let site = try Site(scratch, spool: spool, name: "landing.html") { port in
            let pixel = "/pixel/v1/page?writeKey=wk&anonymousId=browser-visitor&name=Landing&context.page.url=http%3A%2F%2F127.0.0.1%3A\(port)%2Flanding.html"
            return """
            <!doctype html>
            <html><head><title>landing</title></head>
            <body>
            <img id="px" alt="" src="\(pixel)" onload="document.body.dataset.pixel = this.naturalWidth + 'x' + this.naturalHeight" onerror="document.body.dataset.pixel = 'error'">
            </body></html>
            """
        }
        let port = site.port

        let dom = try runProcess("/usr/bin/chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(scratch.path)/chromium",
            "--virtual-time-budget=10000", "--dump-dom", "http://127.0.0.1:\(port)/landing.html",
        ], environment: nil).stdoutText
        #expect(dom.contains(#"data-pixel="1x1""#), "DOM after load: \(dom)")

        #expect(site.stop())
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

    /// README's page pixel and its `<noscript>` fallback, pasted into a page
    /// as they are written (placeholders set), in headless Chromium: with
    /// scripts on, the `<img>` records one page view; with scripts off, the
    /// `<noscript>` image records one more beside it. 3 loads tried, 3 events.
    @Test func readmesPagePixelsRecordInChromium() throws {
        let blocks = try #require(DocsTests.runnableBlocks()["readme-page-pixels"])
        #expect(blocks.count == 2 && blocks.allSatisfy { $0.language == "html" })
        let scratch = Scratch()
        let spool = try webServerSpool(scratch)
        let pasted = blocks.map(\.text).joined(separator: "\n")
            .replacingOccurrences(of: "YOUR_WRITE_KEY", with: "wk").replacingOccurrences(of: "VISITOR_ID", with: "readme-visitor")
        let site = try Site(scratch, spool: spool, name: "pricing.html") { _ in
            "<!doctype html>\n<html><head><title>pricing</title></head>\n<body>\n\(pasted)\n</body></html>\n"
        }
        let port = site.port
        func load(scripts: Bool) throws {
            let profile = "\(scratch.path)/chromium-\(scripts)"
            if !scripts {
                // A visitor who blocks scripts: the profile's own setting
                // (the command-line switch stops headless loading at all).
                try FileManager.default.createDirectory(atPath: profile + "/Default", withIntermediateDirectories: true)
                try #"{"profile":{"default_content_setting_values":{"javascript":2}}}"#
                    .write(toFile: profile + "/Default/Preferences", atomically: true, encoding: .utf8)
            }
            let arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile,
                             "--virtual-time-budget=10000", "--dump-dom", "http://127.0.0.1:\(port)/pricing.html"]
            let run = try runProcess("/usr/bin/chromium", arguments, environment: nil)
            #expect(run.stdoutText.contains("readme-visitor"), "the page did not load: \(run.stdoutText)")
        }
        try load(scripts: true)
        #expect(waitUntil(seconds: 5) { scratch.spoolLines.count >= 1 })
        try load(scripts: false)
        #expect(waitUntil(seconds: 5) { scratch.spoolLines.count >= 3 })
        #expect(site.stop())
        let events = try scratch.spoolLines.map { try #require(try jsonObject($0)["event"] as? [String: Any]) }
        #expect(events.count == 3, "3 loads of the pixels, \(events.count) events")
        for event in events {
            #expect(event["type"] as? String == "page" && event["anonymousId"] as? String == "readme-visitor" && event["name"] as? String == "Pricing")
            #expect(((event["context"] as? [String: Any])?["userAgent"] as? String ?? "").contains("Chrome/"))
        }
        #expect(events.filter { ($0["context"] as? [String: Any])?["page"] != nil }.count == 2, "the <img> sends the page's URL, the fallback does not")
    }
}
