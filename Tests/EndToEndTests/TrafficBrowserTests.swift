import Foundation
import Testing

/// Hit classes (PIXELGATE_HIT_CLASSES) seen from a real browser: headless
/// Chromium loads a page from nginx that both prefetches one pixel URL
/// (`<link rel=prefetch>`, sent with `Sec-Purpose: prefetch`) and shows
/// another as an image (no purpose header), and pixelgate must tell the two
/// apart.
///
/// What Chromium 156 (Debian, headless) does here, as measured:
/// - the `<img>` request has no Sec-Purpose/Purpose header, `Sec-Fetch-Dest:
///   image`, `Sec-Fetch-Mode: no-cors`, an image Accept header;
/// - the `<link rel=prefetch>` request has `Sec-Purpose: prefetch`,
///   `Sec-Fetch-Dest: empty`, `Sec-Fetch-Mode: no-cors` and a document
///   Accept header; it is issued at idle priority, after the page's images;
/// - `--virtual-time-budget` makes `--dump-dom` wait for that prefetch to
///   finish (without it Chromium may dump and exit while the prefetch is
///   still in flight, and its `onload` has not run);
/// - a prefetched `Cache-Control: no-store` answer is not reused: an image
///   of the same URL is fetched again. This page uses two different URLs
///   anyway, so each hit is one event.
/// To make the order certain, the page adds the <img> only from the prefetch
/// link's onload (or onerror), and records both outcomes in the DOM.
// Not in the TSan pass: Chromium beside a TSan build of serve took four
// minutes there and starved the timing of the stall tests running beside
// it; classing is single-threaded code, run in the plain and ASan passes.
@Suite("Hit classes in a real browser", .serialized,
       .disabled(if: ProcessInfo.processInfo.environment["PIXELGATE_SANITIZER"] == "thread",
                 "Chromium under a TSan build starves the tests beside it; checked in the plain and ASan passes"))
struct TrafficBrowserTests {
    /// Both hits stored, each marked with its own class: the prefetch as
    /// `prefetch` (with the rule that said so), the image as `human`.
    @Test func prefetchAndOpenAreToldApart() throws {
        let run = try browseTrafficPage(hitClasses: "human=mark,prefetch=mark")
        #expect(run.dom.contains(#"data-prefetch="load""#), "DOM after load: \(run.dom)")
        #expect(run.dom.contains(#"data-pixel="1x1""#), "DOM after load: \(run.dom)")
        #expect(run.serveStatus == 0, "serve log: \(run.serveLog)")

        // What reached pixelgate: the prefetch (with its purpose) and the image.
        #expect(run.hits.count == 2, "pixel requests nginx passed on: \(run.hits)")
        #expect(run.hits.filter { $0.anonymousId == "prefetched" }.map(\.secPurpose) == ["prefetch"], "\(run.hits)")
        #expect(run.hits.filter { $0.anonymousId == "opened" }.map(\.secPurpose) == ["-"], "\(run.hits)")
        #expect(run.hits.allSatisfy { $0.status == "200" }, "\(run.hits)")

        // Every hit in is one line out, no more, no fewer.
        #expect(run.lines.count == run.hits.count, "spool: \(run.lines)")
        #expect(run.lines.count == 2, "spool: \(run.lines)")
        let events = try run.lines.map(trafficEvent)
        #expect(events.map { $0["anonymousId"] as? String ?? "?" }.sorted() == ["opened", "prefetched"], "spool: \(run.lines)")

        let prefetched = try #require(events.first(where: { $0["anonymousId"] as? String == "prefetched" }), "spool: \(run.lines)")
        let prefetchTraffic = try #require(trafficOf(prefetched), "no context.traffic: \(run.lines)")
        #expect(prefetchTraffic["class"] as? String == "prefetch", "traffic: \(prefetchTraffic)")
        let rule = prefetchTraffic["rule"] as? String ?? ""
        #expect(!rule.isEmpty, "traffic: \(prefetchTraffic)")

        let opened = try #require(events.first(where: { $0["anonymousId"] as? String == "opened" }), "spool: \(run.lines)")
        let openTraffic = try #require(trafficOf(opened), "no context.traffic: \(run.lines)")
        #expect(openTraffic["class"] as? String == "human", "traffic: \(openTraffic)")
    }

    /// `prefetch=drop`: the prefetch is answered as usual (its link still
    /// loads) but stored nowhere; the image, `human` by default `record`,
    /// is stored unchanged (no `context.traffic`) and still loads as 1×1.
    @Test func droppedPrefetchStoresNothingButThePageStillLoads() throws {
        let run = try browseTrafficPage(hitClasses: "prefetch=drop")
        #expect(run.dom.contains(#"data-prefetch="load""#), "DOM after load: \(run.dom)")
        #expect(run.dom.contains(#"data-pixel="1x1""#), "DOM after load: \(run.dom)")
        #expect(run.serveStatus == 0, "serve log: \(run.serveLog)")

        // The prefetch did reach pixelgate and was answered 200: what is
        // missing from the spool was dropped, not never sent.
        #expect(run.hits.count == 2, "pixel requests nginx passed on: \(run.hits)")
        #expect(run.hits.filter { $0.anonymousId == "prefetched" }.map(\.secPurpose) == ["prefetch"], "\(run.hits)")
        #expect(run.hits.allSatisfy { $0.status == "200" }, "\(run.hits)")

        #expect(run.lines.count == 1, "spool: \(run.lines)")
        let line = try #require(run.lines.first)
        let event = try trafficEvent(line)
        #expect(event["anonymousId"] as? String == "opened", "spool: \(line)")
        let context = try #require(event["context"] as? [String: Any], "spool: \(line)")
        #expect(!context.keys.contains("traffic"), "recorded unchanged, yet: \(line)")
        #expect(run.rejected.isEmpty, "rejected: \(run.rejected)")
    }
}

/// One pixel request as nginx passed it to pixelgate.
private struct PixelHit: CustomStringConvertible {
    var status: String
    var secPurpose: String
    var uri: String
    var anonymousId: String? {
        URLComponents(string: uri)?.queryItems?.first { $0.name == "anonymousId" }?.value
    }
    var description: String { "\(status) [Sec-Purpose: \(secPurpose)] \(uri)" }
}

private struct TrafficRun {
    var dom: String
    var lines: [String]
    var rejected: [String]
    var hits: [PixelHit]
    var serveStatus: Int32
    var serveLog: String
}

/// A desktop Chrome user agent, as a visitor's browser sends it. Headless
/// Chromium's own says "HeadlessChrome/…"; no rule classes that today, but
/// these tests are about prefetch against open, not about agents, so they
/// do not depend on it. Every other header is Chromium's own.
private let desktopChromeUserAgent =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

/// Serves a page from nginx (shipped server block, plus the page and a log
/// of the pixel requests), with `pixelgate serve` behind it under
/// `PIXELGATE_HIT_CLASSES=hitClasses`; loads it in headless Chromium.
private func browseTrafficPage(hitClasses: String) throws -> TrafficRun {
    let scratch = Scratch()
    let spool = try webServerSpool(scratch)
    let backend = freePort(), port = freePort()
    let serve = try ServeProcess(listen: "127.0.0.1:\(backend)", workers: 1, environment: [
        "PIXELGATE_SPOOL_DIR": spool, "PIXELGATE_RESPONSE": "gif", "PIXELGATE_HIT_CLASSES": hitClasses,
    ])
    let www = scratch.path + "/www"
    try FileManager.default.createDirectory(atPath: www, withIntermediateDirectories: true)
    let prefetchedPixel = "/pixel/v1/page?writeKey=wk&anonymousId=prefetched&name=Traffic"
    let openedPixel = "/pixel/v1/page?writeKey=wk&anonymousId=opened&name=Traffic"
    let prefetchedHref = prefetchedPixel.replacingOccurrences(of: "&", with: "&amp;")
    // The link sits in <body>, after the script, so that its onload always
    // finds both. The <img> is added only once the prefetch has finished.
    let html = """
    <!doctype html>
    <html><head><title>traffic</title></head>
    <body>
    <script>
    function addPixel(prefetch) {
      document.body.dataset.prefetch = prefetch;
      var img = new Image();
      img.alt = "";
      img.onload = function () { document.body.dataset.pixel = img.naturalWidth + "x" + img.naturalHeight; };
      img.onerror = function () { document.body.dataset.pixel = "error"; };
      img.src = "\(openedPixel)";
      document.body.appendChild(img);
    }
    </script>
    <link rel="prefetch" href="\(prefetchedHref)" onload="addPixel('load')" onerror="addPixel('error')">
    </body></html>
    """
    try html.write(toFile: www + "/traffic.html", atomically: true, encoding: .utf8)

    let hitsLog = scratch.path + "/pixel-hits.log"
    var conf = try shippedConfig("nginx-conf/pixelgate-serve.conf", [("127.0.0.1:8080", "127.0.0.1:\(port)"), (shippedSocket, "127.0.0.1:\(backend)")])
    // Test-only additions: the page, and a log of each pixel request with
    // its Sec-Purpose (the server block is included inside http {}).
    conf = try replacingOnce(conf, "    location ~ /pixel/v1/", with: "    location = /traffic.html { root \(www); }\n\n    location ~ /pixel/v1/")
    conf = try replacingOnce(conf, "        include fastcgi_params;", with: "        access_log \(hitsLog) pixelhits;\n        include fastcgi_params;")
    conf = "log_format pixelhits '$status $http_sec_purpose $request_uri';\n" + conf
    let nginx = try startNginx(serverBlock: conf, port: port, in: scratch.path + "/nginx")

    let dom = try runProcess("/usr/bin/chromium", [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(scratch.path)/chromium",
        "--user-agent=\(desktopChromeUserAgent)",
        // Also what makes --dump-dom wait for the idle-priority prefetch.
        "--virtual-time-budget=10000",
        "--dump-dom", "http://127.0.0.1:\(port)/traffic.html",
    ], environment: nil).stdoutText

    nginx.stop()
    let stopped = serve.stop()
    let hits = ((try? String(contentsOfFile: hitsLog, encoding: .utf8)) ?? "").split(separator: "\n").map { line -> PixelHit in
        let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
        return PixelHit(status: fields.first ?? "", secPurpose: fields.count > 1 ? fields[1] : "", uri: fields.count > 2 ? fields[2] : "")
    }
    return TrafficRun(dom: dom, lines: scratch.spoolLines, rejected: scratch.rejectedLines, hits: hits,
                      serveStatus: stopped.status, serveLog: stopped.log)
}

/// `text` with its one `target` replaced; throws if `target` is not there
/// (a changed shipped file must fail the test, not test something else).
private func replacingOnce(_ text: String, _ target: String, with replacement: String) throws -> String {
    guard let range = text.range(of: target) else { throw TestFailure("no \(target.debugDescription) in the server block") }
    return text.replacingCharacters(in: range, with: replacement)
}

/// The stored event of one spool line.
private func trafficEvent(_ line: String) throws -> [String: Any] {
    guard let event = try jsonObject(line)["event"] as? [String: Any] else { throw TestFailure("no event in \(line)") }
    return event
}

/// `context.traffic` of an event, if it has one.
private func trafficOf(_ event: [String: Any]) -> [String: Any]? {
    (event["context"] as? [String: Any])?["traffic"] as? [String: Any]
}
