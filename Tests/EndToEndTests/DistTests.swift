import Foundation
import Testing

@Suite("The release tarball")
struct DistTests {
    /// `PIXELGATE_DIST` (set by scripts/test), or a tarball built now.
    func tarball() throws -> String {
        if let path = ProcessInfo.processInfo.environment["PIXELGATE_DIST"], !path.isEmpty { return path }
        let build = try runProcess(repositoryRoot + "/scripts/dist", environment: nil)
        guard build.status == 0 else { throw TestFailure("scripts/dist failed: \(build.stderr)") }
        return build.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func unpackedBinaryNeedsOnlyGlibc() throws {
        let scratch = Scratch()
        #expect(try runProcess("/bin/tar", ["-xzf", try tarball(), "-C", scratch.path]).status == 0)
        let top = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch.path).first { $0.hasPrefix("pixelgate-") })
        let root = scratch.path + "/" + top
        for file in ["bin/pixelgate", "INSTALL", "README.md", "apache-conf/pixelgate-fcgid.conf", "apache-conf/shared-hosting/.htaccess",
                     "nginx-conf/pixelgate-serve.conf", "systemd/pixelgate.service"] {
            #expect(FileManager.default.fileExists(atPath: root + "/" + file), "missing \(file)")
        }
        let binary = root + "/bin/pixelgate"
        let libraries = try runProcess("/usr/bin/ldd", [binary]).stdoutText
        #expect(!libraries.contains("libswift"), "\(libraries)")
        #expect(!libraries.contains("libFoundation"), "\(libraries)")
        #expect(!libraries.contains("libfcgi"), "\(libraries)")
        #expect(!libraries.contains("not found"), "\(libraries)")
        // Only glibc is left to the host: libstdc++ and libgcc_s are linked in
        // (scripts/build), so a CGI start loads nothing else.
        let loaded = Set(libraries.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count > 2 && fields[1] == "=>" ? String(fields[0]) : nil
        })
        #expect(loaded == ["libc.so.6", "libm.so.6"], "\(libraries)")

        // As CGI, with nothing in the environment but the request and a
        // library path that leads nowhere near a Swift toolchain.
        let cgi = try runProcess(binary, [], environment: [
            "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "REQUEST_URI": "/pixel/v1/page?writeKey=wk&anonymousId=dist",
            "QUERY_STRING": "writeKey=wk&anonymousId=dist", "REMOTE_ADDR": "192.0.2.5", "PIXELGATE_SPOOL_DIR": scratch.spool,
            "LD_LIBRARY_PATH": "/nonexistent",
        ])
        #expect(cgi.status == 0)
        #expect(cgi.stdoutText.hasPrefix("Status: 200 OK\r\n") && cgi.stdoutText.hasSuffix("\r\n\r\nOK"))
        #expect(scratch.spoolLines.count == 1)
        let version = try runProcess(binary, ["--version"])
        #expect(version.status == 0 && version.stdoutText.hasPrefix("pixelgate "))
    }
}
