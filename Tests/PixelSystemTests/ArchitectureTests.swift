import Testing
import PixelSystem

/// The house rules of docs/architecture.md, checked on the sources: what
/// each module may import, and that libc is called from PixelSystem alone.
@Suite struct ArchitectureTests {
    /// The repository's root, from this file's path.
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/PixelSystemTests/ArchitectureTests.swift
        return parts.joined(separator: "/")
    }()

    /// Every Swift file under Sources/MODULE, as (path, text).
    static func files(_ module: String) -> [(path: String, text: String)] {
        let dir = root + "/Sources/" + module
        var found: [(String, String)] = []
        var pending = [dir]
        while let next = pending.popLast() {
            for name in (try? Sys.listDirectory(next)) ?? [] {
                let path = next + "/" + name
                if name.hasSuffix(".swift") {
                    let bytes = (try? Sys.readFile(path, limit: 1 << 20, followingLinks: false)) ?? []
                    found.append((path, String(decoding: bytes, as: UTF8.self)))
                } else if !name.contains(".") {
                    pending.append(path)
                }
            }
        }
        return found
    }

    static func imports(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let at = words.firstIndex(of: "import"), at + 1 < words.count, words[..<at].allSatisfy({ $0.hasPrefix("@") }) else { return nil }
            return String(words[at + 1])
        })
    }

    static let modules = ["PixelCore", "PixelSystem", "PixelSpool", "PixelServer", "pixelgate"]

    @Test(arguments: [
        ("PixelCore", Set<String>()),
        ("PixelSystem", ["Glibc", "CSystem", "Synchronization"]),
        ("PixelSpool", ["PixelCore", "PixelSystem", "CCurl", "CZlib"]),
        ("PixelServer", ["PixelCore", "PixelSpool", "PixelSystem", "CFastCGI", "Synchronization"]),
        ("pixelgate", ["PixelCore", "PixelSpool", "PixelServer", "PixelSystem"]),
    ] as [(String, Set<String>)])
    func eachModuleImportsOnlyWhatItMay(module: String, allowed: Set<String>) {
        let sources = Self.files(module)
        #expect(!sources.isEmpty, "no sources found for \(module) under \(Self.root)")
        for (path, text) in sources {
            let extra = Self.imports(text).subtracting(allowed)
            #expect(extra.isEmpty, "\(path) imports \(extra.sorted())")
        }
    }

    @Test func libfcgiIsTheFastCGIAdaptersAlone() {
        let importers = Self.modules.flatMap(Self.files).filter { Self.imports($0.text).contains("CFastCGI") }.map(\.path)
        #expect(importers.map { $0.split(separator: "/").last! } == ["FastCGIAdapter.swift"])
    }

    /// libc functions pixelgate uses; outside PixelSystem none may be called.
    static let libcCalls = [
        "open", "close", "read", "write", "pread", "pwrite", "stat", "lstat", "fstat", "opendir", "readdir", "closedir",
        "getenv", "setenv", "getpid", "getppid", "geteuid", "getuid", "getpwuid", "getpwuid_r", "realpath", "free",
        "clock_gettime", "nanosleep", "usleep", "kill", "waitpid", "fork", "exit", "signal", "sigaction", "sigprocmask",
        "pthread_create", "pthread_join", "pthread_kill", "pthread_sigmask", "sigsuspend", "socket", "bind", "listen",
        "accept", "recv", "send", "setsockopt", "getpeername", "fcntl", "epoll_create1", "epoll_ctl", "epoll_wait",
        "isatty", "strerror", "inet_pton", "inet_ntop", "chmod", "unlink", "rename", "mkdir", "fsync", "fdatasync",
        "flock", "fchmod", "fchown", "ftruncate", "futimens", "umask", "getrandom", "prctl", "connect", "strlen",
        "memchr", "memcmp", "memcpy", "memmove", "strncmp", "strcmp", "dlopen", "dlsym",
    ]

    @Test func libcIsCalledFromPixelSystemAlone() {
        for module in Self.modules where module != "PixelSystem" {
            for (path, text) in Self.files(module) {
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    for name in Self.libcCalls where Self.calls(Substring(code), name) {
                        Issue.record("\(path):\(number + 1) calls \(name)() directly: go through PixelSystem")
                    }
                }
            }
        }
    }

    /// The spool is reached by descriptor (issue 26): below the spool
    /// directory, PixelSpool opens, renames, removes and lists nothing by a
    /// path, only through a `PinnedDirectory`. `SpoolOwnership` alone
    /// looks the spool directory itself up by its path, to check and pin it.
    @Test func theSpoolIsReachedThroughPinnedDirectoriesAlone() {
        let byPath = ["Sys.open(", "Sys.rename(", "Sys.unlink(", "Sys.listDirectory(", "Sys.statIfExists(", "Sys.lstatIfExists(", "Sys.mkdirs(", "Sys.makeDirectory(",
                      "Sys.syncDirectory(", "Sys.mkdir(", "Sys.freeSpace(", "Sys.readFile("]
        for (path, text) in Self.files("PixelSpool") {
            let spoolDirectoryItself = path.hasSuffix("/SpoolOwnership.swift")
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for call in byPath where code.contains(call) {
                    let allowed = spoolDirectoryItself && ["Sys.lstatIfExists(", "Sys.mkdirs(", "Sys.makeDirectory("].contains(call)
                    if !allowed { Issue.record("\(path):\(number + 1) calls \(call)…) by path: open it through a PinnedDirectory") }
                }
            }
        }
    }

    /// Whether `code` calls the C function `name`: the name stands alone
    /// (not `x.name(`, not `func name(`) and its first argument has no
    /// label (C functions have none; a Swift method of the same name does).
    static func calls(_ code: Substring, _ name: String) -> Bool {
        let line = Array(code.utf8), needle = Array((name + "(").utf8)
        func isWordByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
        }
        var at = 0
        while at + needle.count <= line.count {
            defer { at += 1 }
            guard Array(line[at..<(at + needle.count)]) == needle else { continue }
            if at > 0 && (line[at - 1] == UInt8(ascii: ".") || isWordByte(line[at - 1])) { continue }
            let before = String(decoding: line[0..<at], as: UTF8.self)
            if before.hasSuffix("func ") || before.hasSuffix("case ") { continue }
            var end = at + needle.count
            while end < line.count && isWordByte(line[end]) { end += 1 }
            if end > at + needle.count && end < line.count && line[end] == UInt8(ascii: ":") { continue }
            return true
        }
        return false
    }

    @Test func theCheckSeesACallAndNotAMethod() {
        #expect(Self.calls("let fd = open(path, O_RDONLY)", "open"))
        #expect(Self.calls("if isatty(2) != 0 {", "isatty"))
        #expect(!Self.calls("try Sys.open(path, O_RDONLY)", "open"))
        #expect(!Self.calls("func send(writeKey: String)", "send"))
        #expect(!Self.calls("client.send(writeKey: k, body: b)", "send"))
        #expect(!Self.calls("send(writeKey: k, body: b)", "send"))
        #expect(!Self.calls("reopen(x)", "open"))
    }
}
