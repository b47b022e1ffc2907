import Foundation
import Testing

/// The shell blocks the documentation marks `<!-- runnable: NAME -->` are
/// run here as written: the blocks of one name, in the order README.md and
/// docs/*.md give them, in one shell, with only their placeholders set. A
/// doc can then no longer drift from the binary or from the files it ships.
@Suite("Documented commands", .serialized)
struct DocsTests {
    /// What each runnable name is run by; a name without a test fails
    /// `everyRunnableNameIsRun`, so no marked block goes unrun.
    static let runners = ["quick-start", "readme-email-urls",
                          // SharedHostingTests
                          "shared-hosting-install", "shared-hosting-upgrade", "shared-hosting-stats",
                          // BrowserTests
                          "readme-page-pixels",
                          // TrafficFixtureEndToEndTests
                          "ranges-refresh"]

    struct Block {
        let file: String
        let line: Int
        /// The fence's language: `sh` or `html`.
        let language: String
        let text: String
    }

    /// Every marked block, by name, in document order: README.md first,
    /// then docs/ by file name.
    static func runnableBlocks() throws -> [String: [Block]] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/docs").filter { $0.hasSuffix(".md") }.sorted()
        var blocks: [String: [Block]] = [:]
        for file in ["README.md"] + docs.map({ "docs/" + $0 }) {
            let lines = try String(contentsOfFile: repositoryRoot + "/" + file, encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var i = 0
            while i < lines.count {
                let marker = lines[i].trimmingCharacters(in: .whitespaces)
                guard marker.hasPrefix("<!-- runnable: "), marker.hasSuffix(" -->") else { i += 1; continue }
                let name = String(marker.dropFirst("<!-- runnable: ".count).dropLast(" -->".count))
                let fence = i + 1
                let opening = fence < lines.count ? lines[fence].trimmingCharacters(in: .whitespaces) : ""
                guard opening == "```sh" || opening == "```html" else {
                    throw TestFailure("\(file) line \(i + 1): a runnable marker must stand right above a ```sh or ```html block")
                }
                let indent = lines[fence].prefix { $0 == " " }.count
                var body: [String] = []
                var j = fence + 1
                while j < lines.count, lines[j].trimmingCharacters(in: .whitespaces) != "```" {
                    body.append(String(lines[j].dropFirst(min(indent, lines[j].prefix { $0 == " " }.count))))
                    j += 1
                }
                guard j < lines.count else { throw TestFailure("\(file) line \(fence + 1): the block never ends") }
                blocks[name, default: []].append(Block(file: file, line: fence + 1, language: String(opening.dropFirst(3)),
                                                       text: body.joined(separator: "\n")))
                i = j + 1
            }
        }
        return blocks
    }

    @Test func everyRunnableNameIsRun() throws {
        let blocks = try Self.runnableBlocks()
        #expect(!blocks.isEmpty, "no runnable block found: the markers are gone")
        for (name, found) in blocks {
            #expect(Self.runners.contains(name), "\(found[0].file) line \(found[0].line): no test runs the blocks named '\(name)'")
        }
        for name in Self.runners {
            #expect(blocks[name] != nil, "no block is named '\(name)' any more; its test would run nothing")
        }
    }

    /// GitHub's anchor for a heading: lower case, spaces to `-`, and only
    /// letters, digits, `-` and `_` kept.
    static func anchor(_ heading: String) -> String {
        String(heading.lowercased().map { $0 == " " ? "-" : $0 }
            .filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    /// Every relative link in README.md and docs/ leads to a file of the
    /// repository, and to a heading there when it names one: splitting the
    /// README moved sections, and a link that leads nowhere is a dead end
    /// for the reader.
    @Test func everyLinkLeadsSomewhere() throws {
        let docs = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/docs").filter { $0.hasSuffix(".md") }
        let files = ["README.md", "INSTALL"] + docs.map { "docs/" + $0 }
        let link = #/\]\(([^)\s]+)\)/#
        var checked = 0
        for file in files {
            let text = try String(contentsOfFile: repositoryRoot + "/" + file, encoding: .utf8)
            let directory = (file as NSString).deletingLastPathComponent
            for match in text.matches(of: link) {
                let target = String(match.1)
                if target.hasPrefix("http://") || target.hasPrefix("https://") || target.hasPrefix("mailto:") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let path = parts[0].isEmpty ? file : ((directory as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
                let full = repositoryRoot + "/" + path
                #expect(FileManager.default.fileExists(atPath: full), "\(file): the link \(target) leads to no file")
                if parts.count == 2, path.hasSuffix(".md"), let linked = try? String(contentsOfFile: full, encoding: .utf8) {
                    // Headings outside code blocks (a shell comment is none).
                    var inCode = false
                    var anchors: [String] = []
                    for line in linked.split(separator: "\n") {
                        if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inCode.toggle(); continue }
                        if !inCode && line.hasPrefix("#") { anchors.append(Self.anchor(String(line.drop { $0 == "#" }.dropFirst()))) }
                    }
                    #expect(anchors.contains(parts[1]), "\(file): the link \(target) names no heading of \(path)")
                }
                checked += 1
            }
        }
        #expect(checked > 20, "only \(checked) links found: the pattern no longer reads them")
    }

    /// README's e-mail URLs, signed by the commands it shows: the open
    /// pixel is accepted as the track event it names, and the click link
    /// records its click and redirects to the target.
    @Test func readmesEmailURLsAreAcceptedAsSigned() throws {
        let scratch = Scratch()
        let blocks = try #require(Self.runnableBlocks()["readme-email-urls"])
        #expect(blocks.allSatisfy { $0.language == "sh" })
        let script = blocks.map(\.text).joined(separator: "\n")
            .replacingOccurrences(of: "YOUR_WRITE_KEY", with: "mailing").replacingOccurrences(of: "RECIPIENT_ID", with: "recipient-7")
        let bin = scratch.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin + "/pixelgate", withDestinationPath: pixelgateBinary)
        let keys = ["PIXELGATE_SIGNING_KEYS": "mailing:0123456789abcdef-mail-secret"]
        let run = try runProcess("/bin/bash", ["-euo", "pipefail", "-c", script],
                                 environment: ["PATH": bin + ":/usr/bin:/bin", "HOME": scratch.path, "PIXELGATE_CONFIG": "none"].merging(keys) { $1 })
        #expect(run.status == 0, "\(run.stderr)")
        let urls = run.stdoutText.split(separator: "\n").map(String.init)
        #expect(urls.count == 2, "\(run.stdoutText)")
        guard urls.count == 2 else { return }
        for url in urls { #expect(url.hasPrefix("https://www.example.com/pixel/v1/") && url.contains("&exp=") && url.contains("&sig="), "\(url)") }
        let open = try runPixelgate([], environment: cgiEnvironment(String(urls[0].dropFirst("https://www.example.com".count)), spool: scratch.spool, extra: keys))
        #expect(open.stdoutText.hasPrefix("Status: 200 OK\r\n"), "\(open.stdoutText)")
        let click = try runPixelgate([], environment: cgiEnvironment(String(urls[1].dropFirst("https://www.example.com".count)), spool: scratch.spool, extra: keys))
        #expect(click.stdoutText.hasPrefix("Status: 302 Found\r\n") && click.stdoutText.contains("Location: https://shop.example.com/sale\r\n"),
                "\(click.stdoutText)")
        let events = try scratch.spoolLines.map { try #require(try jsonObject($0)["event"] as? [String: Any]) }
        #expect(events.map { $0["event"] as? String } == ["Email Opened", "Link Clicked"])
        #expect(events.allSatisfy { $0["anonymousId"] as? String == "recipient-7" && ($0["properties"] as? [String: Any])?["campaign"] as? String == "december" })
    }

    /// README's "Your first event in RudderStack, in five steps", as root on
    /// a host with nginx: the release tarball unpacked, installed, checked
    /// against the data plane, started behind nginx, one hit, one drain.
    /// It runs in a mount and PID namespace of its own, where the paths the
    /// steps write (/etc/pixelgate, /usr/local/lib/pixelgate,
    /// /var/spool/pixelgate, /run/pixelgate, /etc/cron.d, /etc/nginx) are
    /// empty or a copy, so the host and the other tests never see them, and
    /// where `serve` and nginx end with the namespace.
    @Test func theQuickStartDeliversTheFirstEvent() throws {
        guard getuid() == 0 else { throw TestFailure("the quick start runs as root (sudo); run the suite as root") }
        let steps = try #require(Self.runnableBlocks()["quick-start"])
        #expect(steps.allSatisfy { $0.language == "sh" })
        #expect(steps.count == 5, "README's quick start has \(steps.count) runnable steps, not five")
        let scratch = Scratch()
        let work = scratch.path
        chmod(work, 0o755)
        let receiver = DataPlaneReceiver(dir: work + "/dataplane", keys: ["quick-start-key"])
        try receiver.start()
        defer { receiver.stop() }
        let port = freePort()
        let tarball = try DistTests().tarball()
        let name = (tarball as NSString).lastPathComponent
        #expect(name == "pixelgate-0.1.0-linux-x86_64.tar.gz", "README's step 1 names pixelgate-0.1.0-linux-x86_64.tar.gz; the tarball is \(name)")
        let home = work + "/admin"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: tarball, toPath: home + "/" + name)

        func placeholdersSet(_ text: String) -> String {
            text.replacingOccurrences(of: "YOUR_WRITE_KEY", with: "quick-start-key")
                .replacingOccurrences(of: "https://YOUR-DATA-PLANE-URL", with: receiver.url)
                .replacingOccurrences(of: "https://www.example.com", with: "http://127.0.0.1:\(port)")
        }
        for (i, step) in steps.enumerated() {
            try (placeholdersSet(step.text) + "\n").write(toFile: "\(work)/step\(i + 1).sh", atomically: true, encoding: .utf8)
        }
        // The site the reader already has: nginx's own files, and a server
        // block whose include line is the one step 3 asks to add (a glob, so
        // that nginx starts before step 3 installs the file).
        let etcNginx = work + "/etc-nginx"
        #expect(try runProcess("/bin/cp", ["-a", "/etc/nginx", etcNginx]).status == 0)
        try """
            user www-data;
            worker_processes 1;
            pid \(work)/nginx.pid;
            error_log \(work)/nginx-error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(work)/nginx-body;
                fastcgi_temp_path \(work)/nginx-fastcgi;
                server {
                    listen 127.0.0.1:\(port);
                    include /etc/nginx/snippets/pixelgate-location*.conf;
                }
            }
            """.write(toFile: etcNginx + "/nginx.conf", atomically: true, encoding: .utf8)
        let overlays = ["/etc/pixelgate", "/usr/local/lib/pixelgate", "/var/spool/pixelgate", "/run/pixelgate", "/etc/cron.d"]
        let madeHere = overlays.filter { !FileManager.default.fileExists(atPath: $0) }
        defer { for path in madeHere { rmdir(path) } }
        // Each step is sourced into one shell, as typed one after another.
        // A reader is slower than a script: after step 3 the shell waits, as
        // the reader would have without noticing, until nginx's reload is
        // done and serve answers (the health route).
        let wrapper = """
            set -euo pipefail
            for d in \(overlays.joined(separator: " ")); do mkdir -p "$d"; mount -t tmpfs -o mode=755 tmpfs "$d"; done
            mount --bind \(etcNginx) /etc/nginx
            nginx
            cd \(home)
            for i in 1 2 3 4 5; do
              echo "== step $i" >&2
              source \(work)/step$i.sh > \(work)/step$i.out
              # README: after step 4, stats shows the event waiting.
              if [ "$i" = 4 ]; then /usr/local/lib/pixelgate/pixelgate stats --json > \(work)/stats-before.json; fi
              if [ "$i" = 3 ]; then
                for _ in $(seq 100); do
                  # nginx's old worker, which has no pixel location, may still
                  # take a connection until it is gone (the namespace's own /proc).
                  [ "$(pgrep -c -f 'nginx: worker process')" = 1 ] &&
                    [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(port)/pixel/v1/health)" = 200 ] && break
                  sleep 0.1
                done
              fi
            done
            /usr/local/lib/pixelgate/pixelgate stats --json > \(work)/stats.json
            cat /etc/cron.d/pixelgate > \(work)/cron.d-pixelgate
            """
        try wrapper.write(toFile: work + "/wrapper.sh", atomically: true, encoding: .utf8)
        let run = try runProcess("/usr/bin/unshare", ["--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
                                                      "/bin/bash", work + "/wrapper.sh"],
                                 environment: ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home],
                                 mergeStderr: true)
        func output(_ step: Int) -> String { (try? String(contentsOfFile: "\(work)/step\(step).out", encoding: .utf8)) ?? "" }
        #expect(run.status == 0, "the quick start failed: \(run.stdoutText)\n\((try? String(contentsOfFile: work + "/nginx-error.log", encoding: .utf8)) ?? "")")
        #expect(output(1).contains(": OK") && !output(1).contains("FAILED"), "sha256sum -c: \(output(1))")
        let checked = output(2).split(separator: "\n")
        #expect(checked.contains("ok") && checked.last == "connect: ok", "check --connect did not say ok: \(output(2))")
        #expect(output(4) == "OK", "the hit answered \(output(4))")
        let events = try receiver.received()
        #expect(events.count == 1, "1 hit answered OK; the data plane got \(events.count) events")
        if let delivered = events.first {
            #expect(delivered.writeKey == "quick-start-key")
            #expect(delivered.event["type"] as? String == "page")
            #expect(delivered.event["anonymousId"] as? String == "first-visitor")
            #expect(delivered.event["name"] as? String == "Hello")
        }
        let waiting = try jsonObject((try? String(contentsOfFile: work + "/stats-before.json", encoding: .utf8)) ?? "")
        #expect((waiting["backlog"] as? [String: Any])?["events"] as? Int == 1, "before the drain: \(waiting)")
        #expect((waiting["hits"] as? [String: Any])?["stored"] as? Bool == true)
        let stats = try jsonObject((try? String(contentsOfFile: work + "/stats.json", encoding: .utf8)) ?? "")
        #expect(stats["stored"] as? [String: Int] == ["events": 1, "page": 1, "track": 0, "click": 0, "other": 0], "\(stats)")
        let backlog = stats["backlog"] as? [String: Any]
        #expect(backlog?["events"] as? Int == 0, "after the drain the backlog is \(String(describing: backlog))")
        let cron = (try? String(contentsOfFile: work + "/cron.d-pixelgate", encoding: .utf8)) ?? ""
        #expect(cron == "* * * * * www-data /usr/local/lib/pixelgate/pixelgate drain --once\n", "/etc/cron.d/pixelgate: \(cron)")
    }
}
