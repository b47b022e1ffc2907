// The commands' few direct contacts with the C library: writing to the
// standard streams, asking whether one is a terminal, sleeping, and the
// stop request. Kept in this one file so that moving them behind a platform
// module changes one place.
#if canImport(Glibc)
import Glibc
#endif
import PixelServer

/// Writes to stdout: command output that scripts and tests read.
func printOut(_ text: String) { writeAll(1, text) }

/// Writes to stderr: errors, warnings and progress.
func printError(_ text: String) { writeAll(2, text) }

/// Writes all of `text` to `fd`. A signal arriving mid-write (SIGTERM to
/// `drain --follow` while it reports) makes write(2) fail with EINTR having
/// written nothing, so that is retried; any other failure (a closed pipe, a
/// full disk) drops the rest, as there is nowhere left to report it.
func writeAll(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}

/// Whether `fd` is a terminal: progress lines and the responder's usage
/// hint are for a person, not for a log or a web server.
func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

/// Sleeps about `milliseconds` (less when a signal arrives).
func idle(milliseconds: Int) { usleep(useconds_t(milliseconds) * 1000) }

/// SIGTERM/SIGINT as a flag to poll, for long-running commands that stop
/// between steps (`drain --follow`, the FastCGI responder on stdin). The
/// handler and flag are FastCGITransport's, shared with the transports.
enum StopRequest {
    /// Installs the handler (and ignores SIGPIPE); `requested` is false
    /// until a SIGTERM or SIGINT arrives.
    static func install() { FastCGITransport.installStopHandler() }

    static var requested: Bool { FastCGITransport.stopRequested }
}
