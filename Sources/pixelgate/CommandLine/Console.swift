// The commands' contacts with the process: the standard streams, whether
// one is a terminal, sleeping, and the stop request, all through
// PixelSystem.
import PixelSystem

/// Writes to stdout: command output that scripts and tests read.
func printOut(_ text: String) { StandardStream.output.write(text) }

/// Writes to stderr: errors, warnings and progress.
func printError(_ text: String) { StandardStream.error.write(text) }

/// Whether `fd` is a terminal: progress lines and the responder's usage
/// hint are for a person, not for a log or a web server.
func isTerminal(_ fd: Int32) -> Bool { ProcessControl.isTerminal(fd) }

/// Sleeps about `milliseconds` (less when a signal arrives).
func idle(milliseconds: Int) { SystemClock.nap(millis: milliseconds) }

/// SIGTERM/SIGINT as a flag to poll, for long-running commands that stop
/// between steps (`drain --follow`, the FastCGI responder on stdin).
enum StopRequest {
    /// Installs the handler (and ignores SIGPIPE and SIGHUP); `requested`
    /// is false until a SIGTERM or SIGINT arrives.
    static func install() { Signals.installStopHandler() }

    static var requested: Bool { Signals.stopRequested }
}
