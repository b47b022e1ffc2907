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

    @Test func theMonotonicClockNeverGoesBackAndSleepWaits() {
        let start = SystemClock.monotonicMillis()
        SystemClock.sleep(millis: 30)
        let end = SystemClock.monotonicMillis()
        #expect(end - start >= 30)
        #expect(SystemClock.nowMillis() / 1000 == SystemClock.nowNanos() / 1_000_000_000
                || SystemClock.nowMillis() / 1000 + 1 >= SystemClock.nowNanos() / 1_000_000_000)
    }

    @Test func randomBytesFillTheWholeBuffer() {
        var first = [UInt8](repeating: 0, count: 4096)
        var second = [UInt8](repeating: 0, count: 4096)
        first.withUnsafeMutableBytes { SystemRandom.fill($0) }
        second.withUnsafeMutableBytes { SystemRandom.fill($0) }
        #expect(first != second)
        // Every byte value shows up in 4 KiB of random bytes (the odds of
        // one missing are about 256 × e^-16).
        #expect(Set(first).count == 256)
    }

    @Test func theEnvironmentIsReadByPrefix() {
        setenv("PIXELSYSTEM_TEST_A", "1=2", 1)
        setenv("PIXELSYSTEM_TESTB", "x", 1)
        defer { unsetenv("PIXELSYSTEM_TEST_A"); unsetenv("PIXELSYSTEM_TESTB") }
        #expect(ProcessControl.environment(prefix: "PIXELSYSTEM_TEST_") == ["PIXELSYSTEM_TEST_A": "1=2"])
        #expect(ProcessControl.variable("PIXELSYSTEM_TESTB") == "x")
        #expect(ProcessControl.variableBytes("PIXELSYSTEM_TESTB").map { Array($0) } == [UInt8(ascii: "x")])
        #expect(ProcessControl.variable("PIXELSYSTEM_UNSET") == nil)
    }

    @Test func peekLooksWithoutTakingAndSeesTheClose() {
        let pair = SocketPair()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        #expect(Socket.peek(pair.a, into: buffer) == .nothingYet)
        #expect(Socket.sendAll(pair.b, Array("hello".utf8)))
        #expect(Socket.peek(pair.a, into: buffer) == .bytes(5))
        #expect(Socket.peek(pair.a, into: buffer) == .bytes(5))  // still there
        #expect(!Socket.nothingWaiting(pair.a))
        #expect(Socket.take(pair.a, 5, into: buffer))
        #expect(Socket.nothingWaiting(pair.a))
        shutdown(pair.b, Int32(SHUT_WR))
        #expect(Socket.peek(pair.a, into: buffer) == .closed)
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
        #expect(none.isEmpty)
        _ = Socket.sendAll(two.b, [1])
        let ready = try poller.wait(timeoutMillis: 1000)
        #expect(ready == [two.a])
        poller.forget(two.a)
        let after = try poller.wait(timeoutMillis: 0)
        #expect(after.isEmpty)
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
