import Glibc
import Testing
@testable import PixelSystem

/// A connected pair of unix stream sockets, closed afterwards.
final class SocketPair {
    let a: Int32, b: Int32
    init() {
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        a = fds[0]
        b = fds[1]
    }
    deinit { close(a); close(b) }
}

@Suite struct SystemTests {
    @Test func errorsNameTheCallThePathAndErrno() {
        #expect(throws: SystemError.self) { try Sys.open("/nonexistent-\(ProcessControl.id)/x", O_RDONLY) }
        do {
            _ = try Sys.open("/nonexistent-\(ProcessControl.id)/x", O_RDONLY)
        } catch {
            #expect(error.operation == "open")
            #expect(error.errno == ENOENT)
            #expect(error.description.contains("/nonexistent-"))
            #expect(error.description.contains("No such file or directory"))
        }
    }

    @Test func opensNeverFollowALinkInTheLastComponent() throws {
        let dir = "/tmp/pixelsystem-test-\(ProcessControl.id)-links"
        try Sys.mkdirs(dir)
        defer { _ = try? Sys.unlink(dir + "/link"); _ = try? Sys.unlink(dir + "/file"); rmdir(dir) }
        let fd = try Sys.open(dir + "/file", O_WRONLY | O_CREAT, 0o600)
        try Sys.writeAll(fd, Array("secret\n".utf8), dir + "/file")
        Sys.close(fd)
        #expect(symlink(dir + "/file", dir + "/link") == 0)
        #expect(throws: SystemError.self) { try Sys.open(dir + "/link", O_RDONLY) }
        #expect(throws: SystemError.self) { try Sys.readFile(dir + "/link", limit: 100, followingLinks: false) }
        // A settings file an administrator linked is read through the link.
        #expect(try Sys.readFile(dir + "/link", limit: 100, followingLinks: true) == Array("secret\n".utf8))
        #expect(throws: SystemError.self) { try Sys.readFile(dir + "/file", limit: 3, followingLinks: false) }
        #expect(Sys.realpath(dir + "/link") == dir + "/file")
        #expect(Sys.realpath(dir + "/missing") == nil)
    }

    /// Enough long names to fill readdir's buffer several times: the last
    /// entry of each fill sits at the buffer's end, where reading a whole
    /// `d_name` field ran past it (AddressSanitizer's heap-buffer-overflow).
    @Test func listsEveryNameOfALargeDirectory() throws {
        let dir = "/tmp/pixelsystem-test-\(ProcessControl.id)-list"
        try Sys.mkdirs(dir)
        let names = (0..<1500).map { "entry-\($0)-" + String(repeating: "n", count: $0 % 90) }
        defer {
            for name in names { try? Sys.unlink(dir + "/" + name) }
            rmdir(dir)
        }
        for name in names {
            Sys.close(try Sys.open(dir + "/" + name, O_WRONLY | O_CREAT, 0o600))
        }
        #expect(Set(try Sys.listDirectory(dir)) == Set(names))
    }

    @Test func theMonotonicClockNeverGoesBackAndSleepWaits() {
        let start = SystemClock.monotonicMillis()
        SystemClock.sleep(millis: 30)
        let end = SystemClock.monotonicMillis()
        #expect(end - start >= 30)
        let millis = SystemClock.nowMillis(), nanos = SystemClock.nowNanos()
        #expect(nanos / 1_000_000 >= millis && nanos / 1_000_000 - millis < 1000)
    }

    @Test func randomBytesFillTheWholeBuffer() {
        var first = [UInt8](repeating: 0, count: 4096)
        var second = [UInt8](repeating: 0, count: 4096)
        first.withUnsafeMutableBytes { SystemRandom.fill($0) }
        second.withUnsafeMutableBytes { SystemRandom.fill($0) }
        #expect(first != second)
        // Random, not a fill pattern: 4 KiB hold well over 200 distinct
        // byte values (the mean is 255.9; 200 is many deviations away).
        #expect(Set(first).count > 200)
        #expect(first.suffix(16) != [UInt8](repeating: 0, count: 16))
    }

    /// Reads the test process's own environment (no setenv: other suites
    /// read the environment in parallel, and glibc's setenv races getenv).
    @Test func theEnvironmentIsReadByPrefix() throws {
        let path = try #require(ProcessControl.variable("PATH"))
        #expect(!path.isEmpty)
        #expect(ProcessControl.variableBytes("PATH").map { String(decoding: $0, as: UTF8.self) } == path)
        let paths = ProcessControl.environment(prefix: "PATH")
        #expect(paths.names.firstIndex(of: "PATH").map { paths.values[$0] } == path)
        #expect(paths.names.count == paths.values.count)
        #expect(ProcessControl.environment(prefix: "PAT").names.allSatisfy { $0.hasPrefix("PAT") })
        #expect(ProcessControl.environment(prefix: "PIXELSYSTEM_NO_SUCH_").names.isEmpty)
        #expect(ProcessControl.variable("PIXELSYSTEM_NO_SUCH_VARIABLE") == nil)
    }

    @Test func receiveTakesWhatIsThereAndSeesTheClose() {
        let pair = SocketPair()
        var got: [UInt8] = []
        #expect(Socket.receive(pair.a, appendingTo: &got, limit: 64) == .nothingYet)
        #expect(Socket.sendAll(pair.b, Array("hello".utf8)))
        #expect(Socket.receive(pair.a, appendingTo: &got, limit: 3) == .bytes(3))
        #expect(Socket.receive(pair.a, appendingTo: &got, limit: 64) == .bytes(2))
        #expect(got == Array("hello".utf8))
        #expect(Socket.receive(pair.a, appendingTo: &got, limit: 64) == .nothingYet)
        // Bytes and then the close: the bytes first, the close at the next read.
        #expect(Socket.sendAll(pair.b, Array("!".utf8)))
        shutdown(pair.b, Int32(SHUT_WR))
        #expect(Socket.receive(pair.a, appendingTo: &got, limit: 64) == .bytes(1))
        #expect(Socket.receive(pair.a, appendingTo: &got, limit: 64) == .closed)
    }

    @Test func sendAllGivesUpAtItsDeadline() {
        let pair = SocketPair()
        // Nobody reads pair.b: the buffers fill, and the send stops at once.
        let big = [UInt8](repeating: 0x61, count: 8 << 20)
        #expect(!Socket.sendAll(pair.a, big, deadlineMillis: SystemClock.monotonicMillis() + 50))
        #expect(Socket.sendAll(pair.a, [], deadlineMillis: 0))
    }

    @Test func thePollerReportsTheSocketsWithInput() throws {
        let one = SocketPair(), two = SocketPair()
        guard var poller = Poller() else {
            Issue.record("epoll_create1 failed")
            return
        }
        let watched = poller.watch(one.a, exclusive: false) && poller.watch(two.a, exclusive: false)
        #expect(watched)
        let none = try poller.wait(timeoutMillis: 0)
        #expect(none == 0)
        _ = Socket.sendAll(two.b, [1])
        let ready = try poller.wait(timeoutMillis: 1000)
        let readySocket = poller.ready(0)
        #expect(ready == 1 && readySocket == two.a)
        poller.forget(two.a)
        let after = try poller.wait(timeoutMillis: 0)
        #expect(after == 0)
    }

    @Test func peerFiltersReadIPv4AddressesAsAcceptReportsThem() {
        #expect(Socket.ipv4("127.0.0.1") == UInt32(0x0100007F))  // network order in memory, little-endian host
        #expect(Socket.ipv4("::1") == nil)
        #expect(Socket.ipv4("localhost") == nil)
    }

    @Test func aThreadRunsAndIsJoined() {
        let box = PThreadLocked<Int>(0)
        let threads = (0..<4).compactMap { _ in Threads.start { for _ in 0..<1000 { box.withLock { $0 += 1 } } } }
        #expect(threads.count == 4)
        threads.forEach(Threads.join)
        #expect(box.withLock { $0 } == 4000)
    }

    /// What `ListenSocket` relies on to keep a new unix socket private
    /// until its group and mode are set, without touching the process's
    /// umask: Linux makes the socket's file with the mode `fchmod` gave the
    /// socket before `bind`. Then the mode `--socket-mode` asks for.
    @Test func aUnixSocketIsBornWithTheModeGivenBeforeItsBind() throws {
        let path = "/tmp/pixelsystem-born-\(ProcessControl.id).sock"
        defer { try? Sys.unlink(path) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        #expect(fchmod(fd, 0o600) == 0)
        var sun = ListenSocket.unixAddress(path)
        let bound = withUnsafePointer(to: &sun) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(try Sys.lstatIfExists(path).map { $0.st_mode & 0o777 } == 0o600)
        try Sys.unlink(path)
        let (listening, _) = try ListenSocket.open(.unix(path), backlog: 4, socketMode: 0o640)
        defer { Glibc.close(listening) }
        #expect(try Sys.lstatIfExists(path).map { $0.st_mode & 0o777 } == 0o640)
    }

    @Test func aListenSocketRefusesToReplaceAFileThatIsNotASocket() throws {
        let path = "/tmp/pixelsystem-test-\(ProcessControl.id).sock"
        let fd = try Sys.open(path, O_WRONLY | O_CREAT, 0o600)
        Sys.close(fd)
        defer { try? Sys.unlink(path) }
        #expect(throws: ListenSocket.Failure.self) { try ListenSocket.open(.unix(path), backlog: 4, socketMode: 0o600) }
        #expect(try Sys.lstatIfExists(path).map { $0.st_mode & S_IFMT } == S_IFREG)
    }

    @Test func addressesPrintAsTheyAreWritten() {
        #expect(SocketAddress.inet([127, 0, 0, 1], port: 9000).description == "127.0.0.1:9000")
        #expect(SocketAddress.inet([UInt8](repeating: 0, count: 15) + [1], port: 80).description == "[::1]:80")
        #expect(SocketAddress.unix("/run/p.sock").description == "/run/p.sock")
    }
}
