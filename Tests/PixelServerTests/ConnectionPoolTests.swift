import Glibc
import Testing
import PixelCore
@testable import PixelServer
import PixelSystem

/// Answers every request with a fixed line: a stand-in for libfcgi that
/// shows what the pool hands over, and when. The pool keeps the connection
/// when the request asked for it (FCGI_KEEP_CONN).
final class FakeHandler: ConnectionHandler {
    let logger = Logger()
    let served: PThreadLocked<Int>
    init(_ served: PThreadLocked<Int>) { self.served = served }

    func answer(_ request: [UInt8]) -> [UInt8]? {
        // Whole, from its BEGIN_REQUEST (marked keep-connection for libfcgi's pair) to its empty STDIN.
        precondition(request.count >= 24 && request[1] == 1 && request[10] & 1 == 1 && request.suffix(8).starts(with: [1, 5]))
        served.withLock { $0 += 1 }
        return Array("answered\n".utf8)
    }
}

/// A pool on a unix socket, run on its own thread until `stop()`.
final class RunningPool: @unchecked Sendable {
    let path: String
    let served = PThreadLocked<Int>(0)
    private let stopping = PThreadLocked<Bool>(false)
    private var thread: ThreadHandle?
    /// Set by the pool's thread as its last act: from then on it must not
    /// be signalled.
    private let returned = PThreadLocked<Bool>(false)

    init(threads: Int, timeoutMillis: Int64) throws {
        path = "/tmp/pixelserver-pool-\(ProcessControl.id)-\(SystemClock.nowNanos()).sock"
        let (fd, _) = try ListenSocket.open(.unix(path), backlog: 16, socketMode: 0o600)
        Signals.installWakeUp()  // before any interrupt can be sent
        let settings = ConnectionPool.Settings(listenFD: fd, maxThreads: threads, requestTimeoutMillis: timeoutMillis,
                                               maxQueryBytes: 1024, peers: PeerFilter(nil))
        let served = served
        let pool = ConnectionPool(settings, shouldStop: { [stopping] in stopping.withLock { $0 } }) { FakeHandler(served) }
        let returned = returned
        thread = Threads.start {
            pool.run()
            Socket.close(fd)
            returned.withLock { $0 = true }
        }
    }

    func stop() {
        stopping.withLock { $0 = true }
        if let thread {
            // The run loop waits for a signal: wake it until it has returned.
            while !returned.withLock({ $0 }) {
                Threads.interrupt(thread)
                SystemClock.sleep(millis: 10)
            }
            Threads.join(thread)
        }
        try? Sys.unlink(path)
    }

    /// A connected client, reads giving up after 5 s.
    func connect() -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        precondition(rc == 0)
        Socket.setReceiveTimeout(fd, millis: 5000)
        return fd
    }

    /// What arrives before the peer closes, or until `bytes` have come.
    func read(_ fd: Int32, bytes: Int = 1 << 20) -> String {
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while all.count < bytes {
            let n = recv(fd, &buffer, min(buffer.count, bytes - all.count), 0)
            if n <= 0 { break }
            all += buffer[0..<n]
        }
        return String(decoding: all, as: UTF8.self)
    }
}

@Suite(.serialized) struct ConnectionPoolTests {
    @Test func aStalledConnectionHoldsNoThreadAndIsClosedAtItsDeadline() throws {
        let pool = try RunningPool(threads: 1, timeoutMillis: 400)
        defer { pool.stop() }
        let stalled = pool.connect()
        defer { close(stalled) }
        let request = FastCGIBytes.request(query: "writeKey=k")
        #expect(Socket.sendAll(stalled, Array(request[0..<20])))
        // One thread, and the stalled client came first: still answered.
        let prompt = pool.connect()
        defer { close(prompt) }
        #expect(Socket.sendAll(prompt, request))
        #expect(pool.read(prompt) == "answered\n")
        // The stalled one is closed unanswered once its time is up.
        let started = SystemClock.monotonicMillis()
        #expect(pool.read(stalled) == "")
        #expect(SystemClock.monotonicMillis() - started < 4000)
        #expect(pool.served.withLock { $0 } == 1)
    }

    @Test func aKeptConnectionIsParkedAndServedAgain() throws {
        let pool = try RunningPool(threads: 1, timeoutMillis: 2000)
        defer { pool.stop() }
        let client = pool.connect()
        defer { close(client) }
        for _ in 0..<3 {
            #expect(Socket.sendAll(client, FastCGIBytes.request(query: "writeKey=k", keep: true)))
            #expect(pool.read(client, bytes: 9) == "answered\n")
        }
        // Meanwhile another client is not kept waiting behind it.
        let other = pool.connect()
        defer { close(other) }
        #expect(Socket.sendAll(other, FastCGIBytes.request(query: "writeKey=k")))
        #expect(pool.read(other) == "answered\n")
        #expect(pool.served.withLock { $0 } == 4)
    }

    @Test func aRequestSentInPiecesIsServedOnceWhole() throws {
        let pool = try RunningPool(threads: 2, timeoutMillis: 3000)
        defer { pool.stop() }
        let client = pool.connect()
        defer { close(client) }
        let request = FastCGIBytes.request(query: "writeKey=k&event=e")
        for start in stride(from: 0, to: request.count, by: 16) {
            #expect(Socket.sendAll(client, Array(request[start..<min(start + 16, request.count)])))
            SystemClock.sleep(millis: 5)
        }
        #expect(pool.read(client) == "answered\n")
        #expect(pool.served.withLock { $0 } == 1)
    }

    @Test func peersOutsideFCGIWebServerAddrsAreRefused() {
        let filter = PeerFilter("10.1.2.3, 127.0.0.1,not-an-address")
        #expect(filter.allowed?.count == 1)  // " 127.0.0.1" is not an address, as libfcgi reads it
        let local = Socket.Accepted(fd: -1, ipv4Peer: Socket.ipv4("127.0.0.1"))
        let listed = Socket.Accepted(fd: -1, ipv4Peer: Socket.ipv4("10.1.2.3"))
        let unix = Socket.Accepted(fd: -1, ipv4Peer: nil)
        #expect(!filter.admits(local))
        #expect(filter.admits(listed))
        #expect(filter.admits(unix))
        #expect(PeerFilter("").admits(local))
        #expect(PeerFilter(nil).admits(local))
    }
}
