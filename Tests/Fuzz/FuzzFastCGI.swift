// libFuzzer target over the FastCGI door (issue 25), built by Tests/Fuzz/run
// with `swiftc -sanitize=fuzzer,address` together with
// Sources/PixelServer/FastCGIRequestReader.swift and libfcgi. Each input is
// the bytes a peer sends on one connection. The reader reads it as the pool
// does (answers and aborts dropped from the front, requests in order); every
// request it accepts is written into a socket pair that libfcgi reads as its
// connection, and libfcgi must parse it into exactly that request:
//   - FCGX_Accept_r succeeds without waiting (a hang is libFuzzer's timeout);
//   - its parameters are the request's name-value pairs, in order;
//   - its body reads to the end and is the request's STDIN bytes;
//   - answers the reader makes are whole records of at most 65,535 bytes.
// No crash or memory error anywhere (AddressSanitizer).

import CFastCGI
import Glibc

enum FuzzDoor {
    static let reader = FastCGIRequestReader(limits: .init(maxParamsBytes: 64 * 1024), maxConnections: 4)
    nonisolated(unsafe) static var initialised = false
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if !FuzzDoor.initialised {
        require(FCGX_Init() == 0, "FCGX_Init")
        FuzzDoor.initialised = true
    }
    var bytes = Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    // One pair and one request for the whole input, as the adapter keeps
    // them: each request is finished, then the next accepted on the pair.
    let libfcgi = Libfcgi()
    defer { libfcgi.close() }
    // As the pool does: consume what each outcome takes, until it waits or refuses.
    for _ in 0..<64 {
        switch bytes.withUnsafeBytes({ FuzzDoor.reader.read($0) }) {
        case .needMore, .refused:
            return 0
        case .answered(let answer, let consumed):
            checkRecords(answer)
            bytes.removeFirst(consumed)
        case .aborted(let answer, let consumed, _):
            checkRecords(answer)
            bytes.removeFirst(consumed)
        case .request(let request, let consumed):
            libfcgi.check(request.bytes)
            bytes.removeFirst(consumed)
        }
    }
    return 0
}

/// A failed check: its words on stderr (an optimised build's trap would
/// not say which), then a crash libFuzzer records.
func require(_ condition: Bool, _ message: @autoclosure () -> String = "check failed") {
    if condition { return }
    let line = Array("FuzzFastCGI: \(message())\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    abort()
}

/// Whole records, each with at most 65,535 bytes of content.
func checkRecords(_ answer: [UInt8]) {
    var i = 0
    while i < answer.count {
        require(answer.count - i >= 8 && answer[i] == 1, "an answer that is not whole records")
        let length = Int(answer[i + 4]) << 8 | Int(answer[i + 5])
        i += 8 + length + Int(answer[i + 6])
    }
    require(i == answer.count, "an answer that is not whole records")
}

/// The pairs and body the request's records hold, read plainly.
func expected(_ request: [UInt8]) -> (pairs: [[UInt8]], body: [UInt8]) {
    var params: [UInt8] = [], body: [UInt8] = []
    var i = 0
    while i + 8 <= request.count {
        let type = request[i + 1], length = Int(request[i + 4]) << 8 | Int(request[i + 5])
        let content = request[(i + 8)..<(i + 8 + length)]
        if type == 4 { params += content } else if type == 5 { body += content }
        i += 8 + length + Int(request[i + 6])
    }
    var pairs: [[UInt8]] = []
    var j = 0
    func length() -> Int {
        if params[j] < 0x80 { j += 1; return Int(params[j - 1]) }
        defer { j += 4 }
        return Int(params[j] & 0x7F) << 24 | Int(params[j + 1]) << 16 | Int(params[j + 2]) << 8 | Int(params[j + 3])
    }
    while j < params.count {
        let n = length(), v = length()
        // libfcgi's environment is C strings "NAME=VALUE": cut at a NUL.
        var entry = Array(params[j..<(j + n)]) + [UInt8(ascii: "=")] + Array(params[(j + n)..<(j + n + v)])
        if let nul = entry.firstIndex(of: 0) { entry = Array(entry[..<nul]) }
        pairs.append(entry)
        j += n + v
    }
    return (pairs, body)
}

/// libfcgi on one socket pair, as `FastCGIAdapter` uses it.
final class Libfcgi {
    var fds: [Int32] = [-1, -1]
    var r = FCGX_Request()

    init() {
        require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        var size: Int32 = 512 * 1024
        for fd in fds { setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, 4); setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, 4) }
        require(FCGX_InitRequest(&r, -1, 0) == 0)
        r.ipcFd = fds[1]
        r.keepConnection = 1
    }

    func close() {
        Glibc.close(fds[0])
        r.detached = 1  // closed at once, not after waiting for our end to close
        FCGX_Free(&r, 1)
    }

    /// libfcgi reads `request` from the pair and must see exactly it.
    func check(_ request: [UInt8]) {
        require(request.count > 10 && request[10] & 1 == 1, "a request not marked keep-connection")
        var written = 0
        while written < request.count {
            let n = request[written...].withUnsafeBytes { send(fds[0], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            require(n > 0, "the pair did not take the request")
            written += n
        }
        require(FCGX_Accept_r(&r) >= 0 && r.ipcFd >= 0, "libfcgi refused a request the door accepted")
        let (pairs, body) = expected(request)
        var seen: [[UInt8]] = []
        if var envp = r.envp {
            while let entry = envp.pointee {
                var b: [UInt8] = []
                var p = UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self)
                while p.pointee != 0 { b.append(p.pointee); p += 1 }
                seen.append(b)
                envp += 1
            }
        }
        require(seen.first == Array("FCGI_ROLE=RESPONDER".utf8), "libfcgi saw another role")
        require(Array(seen.dropFirst()) == pairs, "libfcgi's parameters differ from the request's")
        var got: [UInt8] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let n = FCGX_GetStr(&buffer, Int32(buffer.count), r.in)
            if n <= 0 { break }
            got += buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }
        }
        require(FCGX_HasSeenEOF(r.in) != 0 && FCGX_GetError(r.in) == 0, "libfcgi did not read the body to its end")
        require(got == body, "libfcgi's body differs from the request's")
        FCGX_Finish_r(&r)
        require(r.ipcFd >= 0, "libfcgi closed a kept connection")
        // Its answer, read off so the pair never fills.
        var answer = [UInt8](repeating: 0, count: 65_536)
        while recv(fds[0], &answer, answer.count, Int32(MSG_DONTWAIT)) > 0 {}
    }
}
