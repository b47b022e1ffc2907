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

    /// The newest `GLIBC_x.y` symbol version the binary needs, from its
    /// dynamic symbol table (`objdump -T`), as numbers.
    static func newestGlibcVersion(_ binary: String) throws -> [Int] {
        let dump = try runProcess("/usr/bin/objdump", ["-T", binary])
        guard dump.status == 0 else { throw TestFailure("objdump -T \(binary): \(dump.stderr)") }
        var newest: [Int] = []
        var rest = Substring(dump.stdoutText)
        while let range = rest.range(of: "GLIBC_") {
            let digits = rest[range.upperBound...].prefix { $0.isNumber || $0 == "." }
            let version = digits.split(separator: ".").compactMap { Int($0) }
            if version.lexicographicallyPrecedes(newest) == false && version != newest { newest = version }
            rest = rest[range.upperBound...]
        }
        guard !newest.isEmpty else { throw TestFailure("no GLIBC versions in objdump -T \(binary)") }
        return newest
    }

    /// Shared hosts and older servers run glibc 2.28 (RHEL/Alma/CloudLinux
    /// 8, Debian 10, Ubuntu 20.04): the binary the tests run, as
    /// `scripts/build` makes it, needs no symbol version newer than that.
    /// (The toolchain's own link needed GLIBC_2.36.)
    @Test func theReleaseBinaryRunsOnGlibc228() throws {
        // scripts/build's output, also in the sanitizer passes, whose
        // PIXELGATE_BIN is a sanitizer build for the toolchain's glibc.
        let binary = ProcessInfo.processInfo.environment["PIXELGATE_SANITIZER"] == nil
            ? pixelgateBinary : repositoryRoot + "/.build/glibc-2.28/pixelgate"
        let newest = try DistTests.newestGlibcVersion(binary)
        #expect(newest.lexicographicallyPrecedes([2, 29]), "needs GLIBC_\(newest.map(String.init).joined(separator: "."))")
    }

    /// The functions a CGI hit runs (scripts/hot-functions.txt) are laid
    /// out first and together in the binary scripts/build makes (issue 27:
    /// fewer pages of code faulted in a start). Nearly all of them: the
    /// standard library leaves some of its functions in one section that
    /// cannot be split.
    @Test func theFunctionsAHitRunsAreLaidOutTogether() throws {
        let binary = ProcessInfo.processInfo.environment["PIXELGATE_SANITIZER"] == nil
            ? pixelgateBinary : repositoryRoot + "/.build/glibc-2.28/pixelgate"
        let sections = try runProcess("/usr/bin/readelf", ["-SW", binary]).stdoutText
        let hotLine = try #require(sections.split(separator: "\n").first { $0.contains(" .text.hot ") }, "no .text.hot in \(binary)")
        let fields = hotLine.split(separator: "]")[1].split(separator: " ")
        let start = try #require(UInt64(fields[2], radix: 16)), size = try #require(UInt64(fields[4], radix: 16))
        let hot = try String(contentsOfFile: repositoryRoot + "/scripts/hot-functions.txt", encoding: .utf8).split(separator: "\n")
        var address: [Substring: UInt64] = [:]
        for line in try runProcess("/usr/bin/nm", ["--defined-only", binary]).stdoutText.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            if parts.count == 3, let value = UInt64(parts[0], radix: 16) { address[parts[2]] = value }
        }
        let present = hot.filter { address[$0] != nil }
        let together = present.filter { (start..<start + size).contains(address[$0]!) }
        #expect(present.count * 10 >= hot.count * 9, "\(hot.count - present.count) of \(hot.count) listed functions are gone")
        #expect(together.count * 10 >= present.count * 7, "\(together.count) of \(present.count) in .text.hot")
        // The hit's own code, the engine's decoder among it, is all there.
        let decoder = present.filter { $0.contains("QueryDecoder") }
        #expect(!decoder.isEmpty && decoder.allSatisfy { together.contains($0) }, "\(decoder)")
    }

    /// The list is the hit's functions now, not some earlier version's: a
    /// hit traced afresh (`scripts/order-hot-functions`, as its header
    /// says to run it) runs few functions the committed list lacks. After a
    /// change to the request path, run it and commit the list.
    @Test func theListOfHotFunctionsIsCurrent() throws {
        let binary = ProcessInfo.processInfo.environment["PIXELGATE_SANITIZER"] == nil
            ? pixelgateBinary : repositoryRoot + "/.build/glibc-2.28/pixelgate"
        let scratch = Scratch()
        let fresh = scratch.path + "/hot-functions.txt"
        let run = try runProcess(repositoryRoot + "/scripts/order-hot-functions", [binary, fresh], environment: nil, mergeStderr: true)
        #expect(run.status == 0, "\(run.stdoutText)")
        let traced = Set(try String(contentsOfFile: fresh, encoding: .utf8).split(separator: "\n"))
        let committed = Set(try String(contentsOfFile: repositoryRoot + "/scripts/hot-functions.txt", encoding: .utf8).split(separator: "\n"))
        let missing = traced.subtracting(committed)
        #expect(traced.count >= 100 && missing.count * 10 <= traced.count,
                "\(missing.count) of the \(traced.count) functions a hit runs are not in scripts/hot-functions.txt; run scripts/order-hot-functions")
    }

    /// scripts/glibc-2.28.c and scripts/start.c, linked as scripts/build
    /// links them: libgcc's unwinder walks the stack through its
    /// `_dl_find_object` (a stub that answered "not found" made every
    /// unwind abort), `arc4random` gives kernel randomness, and the
    /// arguments the standard library asks for are main's.
    @Test func theGlibcShimUnwindsAndGivesRandomness() throws {
        let scratch = Scratch()
        // The zig scripts/build links with (scripts/zig.env).
        let link = try runProcess("/bin/sh", ["-c", """
            . "$1/scripts/zig.env"
            "$zig" cc -target x86_64-linux-gnu.2.28 -O1 -funwind-tables -o "$0" "$1/Tests/Glibc/shim-check.c" \
              "$1/scripts/glibc-2.28.c" "$1/scripts/start.c" "$(clang -print-file-name=libgcc_eh.a)"
            """, scratch.path + "/shim-check", repositoryRoot], environment: nil, mergeStderr: true)
        #expect(link.status == 0, "\(link.stdoutText)")
        let run = try runProcess(scratch.path + "/shim-check", ["one", "two", "last-one"])
        #expect(run.status == 0, "\(run.stderr)")
        let words = run.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" })
        #expect(words.count == 9 && words[0] == "frames" && (Int(words[1]) ?? 0) >= 3, "\(run.stdoutText)")
        #expect(words.count == 9 && words[3] != words[4], "\(run.stdoutText)")
        #expect(words.count == 9 && words[5...] == ["arguments", "4", "same", "last-one"], "\(run.stdoutText)")
        #expect(try DistTests.newestGlibcVersion(scratch.path + "/shim-check").lexicographicallyPrecedes([2, 29]))
    }

    @Test func unpackedBinaryNeedsOnlyGlibc() throws {
        let scratch = Scratch()
        #expect(try runProcess("/bin/tar", ["-xzf", try tarball(), "-C", scratch.path]).status == 0)
        let top = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch.path).first { $0.hasPrefix("pixelgate-") })
        let root = scratch.path + "/" + top
        for file in ["bin/pixelgate", "INSTALL", "README.md", "LICENSE", "pixelgate.8", "pixelgate.env", "SHA256SUMS",
                     "apache-conf/pixelgate-fcgid.conf", "apache-conf/shared-hosting/.htaccess",
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
        // (scripts/build), so a CGI start loads nothing else. (glibc 2.28
        // keeps threads and dlopen in libpthread and libdl; from 2.34 on
        // they are empty names for libc.)
        let loaded = Set(libraries.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count > 2 && fields[1] == "=>" ? String(fields[0]) : nil
        })
        #expect(loaded == ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2"], "\(libraries)")
        #expect(try DistTests.newestGlibcVersion(binary).lexicographicallyPrecedes([2, 29]))

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

    /// What a download carries beside the binary: the licence, the man page
    /// and the settings file (each documenting every setting the binary
    /// knows), an INSTALL that covers delivery, and checksums that verify.
    @Test func theTarballCarriesLicenceManPageSettingsAndChecksums() throws {
        let scratch = Scratch()
        let tarball = try tarball()
        #expect(try runProcess("/bin/tar", ["-xzf", tarball, "-C", scratch.path]).status == 0)
        let top = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch.path).first { $0.hasPrefix("pixelgate-") })
        let root = scratch.path + "/" + top
        func text(_ file: String) -> String { (try? String(contentsOfFile: root + "/" + file, encoding: .utf8)) ?? "" }

        // The Apache License 2.0, as the repository has it.
        let license = text("LICENSE")
        #expect(license.contains("Apache License") && license.contains("Version 2.0, January 2004"))
        let repositoryLicense = try String(contentsOfFile: repositoryRoot + "/LICENSE", encoding: .utf8)
        #expect(license == repositoryLicense)

        // The man page renders without a warning.
        let groff = try runProcess("/usr/bin/groff", ["-man", "-Tutf8", "-ww", "-z", root + "/pixelgate.8"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(groff.status == 0 && groff.stderr.isEmpty, "\(groff.stderr)")
        // It and the settings file name every setting `check` prints; the
        // file sets only the spool the units were written for.
        let check = try runProcess(root + "/bin/pixelgate", ["check"], environment: ["PIXELGATE_SPOOL_DIR": scratch.spool])
        let settings = check.stdoutText.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("PIXELGATE_"), let eq = trimmed.firstIndex(of: "=") else { return nil }
            return String(trimmed[..<eq])
        }
        #expect(settings.count >= 20, "\(check.stdoutText)")
        let manPage = text("pixelgate.8"), settingsFile = text("pixelgate.env")
        for name in settings {
            #expect(manPage.contains(name), "pixelgate.8 does not document \(name)")
            #expect(settingsFile.contains(name + "="), "pixelgate.env has no line for \(name)")
        }
        #expect(manPage.contains("PIXELGATE_CONFIG"))
        let assignments = SystemdTests.assignments(inSettingsFile: settingsFile)
        #expect(assignments == ["PIXELGATE_SPOOL_DIR": "/var/spool/pixelgate"], "\(assignments)")

        // INSTALL: the settings file and the drain, by timer or cron.
        let install = text("INSTALL")
        #expect(install.contains("/etc/pixelgate/pixelgate.env"))
        #expect(install.contains("pixelgate-drain.timer"))
        #expect(install.contains("drain --once") && install.contains("*/5 * * * *"))
        // It is the repository's INSTALL, which names what delivering loads
        // (a minimal host without libcurl failed its first drain), and every
        // library the binary needs from the system.
        #expect(install == (try String(contentsOfFile: repositoryRoot + "/INSTALL", encoding: .utf8)))
        #expect(install.contains("libcurl4") && install.contains("zlib1g"))
        let needed = try runProcess("/usr/bin/readelf", ["-d", root + "/bin/pixelgate"], environment: ["PATH": "/usr/bin:/bin"])
        let libraries = needed.stdoutText.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line -> String? in
            guard let open = line.firstIndex(of: "["), let dot = line[open...].firstIndex(of: ".") else { return nil }
            return String(line[line.index(after: open)..<dot])
        }
        #expect(libraries.count >= 2, "\(needed.stdoutText)")
        for library in libraries {
            // By whole word: "libc", "libm", or the loader by what it is.
            let name = library.hasPrefix("ld-linux") ? "dynamic loader" : library
            #expect(install.range(of: "\\b\(name)\\b", options: .regularExpression) != nil, "INSTALL does not name \(library)")
        }

        // SHA256SUMS covers every other file and verifies where unpacked.
        let sums = text("SHA256SUMS").split(separator: "\n")
        let files = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        #expect(Set(sums.map { String($0.dropFirst(66)) }) == Set(files).subtracting(["SHA256SUMS"]))
        let verify = try runProcess("/bin/sh", ["-c", "cd \"$0\" && sha256sum --check --strict SHA256SUMS", root], environment: ["PATH": "/usr/bin:/bin"])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderr)")
        // And dist/SHA256SUMS, beside the tarball, covers the download.
        let dist = (tarball as NSString).deletingLastPathComponent
        let downloads = (try? String(contentsOfFile: dist + "/SHA256SUMS", encoding: .utf8)) ?? ""
        #expect(downloads.contains("  " + (tarball as NSString).lastPathComponent + "\n"), "\(downloads)")
        let verifyDownloads = try runProcess("/bin/sh", ["-c", "cd \"$0\" && sha256sum --check --strict --ignore-missing SHA256SUMS", dist],
                                             environment: ["PATH": "/usr/bin:/bin"])
        #expect(verifyDownloads.status == 0, "\(verifyDownloads.stdoutText)\(verifyDownloads.stderr)")
    }
}
