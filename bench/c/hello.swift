// The Swift floor for plain CGI, for bench/cgi.sh: a Swift program built
// like pixelgate (static Swift runtime) that only answers "OK". What it
// costs over bench/c/cgi.c is process start-up of any Swift program.
#if canImport(Glibc)
import Glibc
#endif

let answer = "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nOK"
exit(answer.utf8.withContiguousStorageIfAvailable { write(1, $0.baseAddress, $0.count) } == answer.utf8.count ? 0 : 1)
