import Foundation
import Testing

@Suite("The release tarball")
struct DistTests {
    /// `PIXELGATE_DIST` (set by scripts/test), or a tarball built now.
    func tarball() throws -> String {
        if let path = ProcessInfo.processInfo.environment["PIXELGATE_DIST"], !path.isEmpty { return path }
        let build = Process()
        build.executableURL = URL(fileURLWithPath: repositoryRoot + "/scripts/dist")
        let out = Pipe()
        build.standardOutput = out
        build.standardError = FileHandle.nullDevice
        build.standardInput = FileHandle.nullDevice
        try build.run()
        let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        build.waitUntilExit()
        guard build.terminationStatus == 0 else { throw TestFailure("scripts/dist failed") }
        return path
    }

    func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func unpackedBinaryNeedsNoSwiftAndNoLibfcgi() throws {
        let scratch = Scratch()
        let (untar, _) = try run("/bin/tar", ["-xzf", try tarball(), "-C", scratch.path])
        #expect(untar == 0)
        let top = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch.path).first { $0.hasPrefix("pixelgate-") })
        let root = scratch.path + "/" + top
        for file in ["bin/pixelgate", "INSTALL", "README.md", "apache-conf/pixelgate-fcgid.conf", "apache-conf/shared-hosting/.htaccess",
                     "nginx-conf/pixelgate-serve.conf", "systemd/pixelgate.service"] {
            #expect(FileManager.default.fileExists(atPath: root + "/" + file), "missing \(file)")
        }
        let binary = root + "/bin/pixelgate"
        let (_, libraries) = try run("/usr/bin/ldd", [binary])
        #expect(!libraries.contains("libswift"), "\(libraries)")
        #expect(!libraries.contains("libFoundation"), "\(libraries)")
        #expect(!libraries.contains("libfcgi"), "\(libraries)")
        #expect(!libraries.contains("not found"), "\(libraries)")

        // As CGI, with nothing in the environment but the request and a
        // library path that leads nowhere near a Swift toolchain.
        let (status, output) = try run(binary, [], environment: [
            "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "REQUEST_URI": "/pixel/v1/page?writeKey=wk&anonymousId=dist",
            "QUERY_STRING": "writeKey=wk&anonymousId=dist", "REMOTE_ADDR": "192.0.2.5", "PIXELGATE_SPOOL_DIR": scratch.spool,
            "LD_LIBRARY_PATH": "/nonexistent",
        ])
        #expect(status == 0)
        #expect(output.hasPrefix("Status: 200 OK\r\n") && output.hasSuffix("\r\n\r\nOK"))
        #expect(scratch.spoolLines.count == 1)
        let (versionStatus, version) = try run(binary, ["--version"])
        #expect(versionStatus == 0 && version.hasPrefix("pixelgate "))
    }
}
