import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running child started with posix_spawn and reaped with waitpid,
/// so that stopping it never depends on a run loop (Foundation's Process
/// can wait forever for a child that has long exited).
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private(set) var exitStatus: Int32?

    /// stdin is /dev/null; stdout and stderr go to `log`.
    init(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test runner's: a pipe another test is reading
        // (runProcess) must not stay open in a daemon for its lifetime.
        // (glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which the
        // Glibc module does not declare.)
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            throw TestFailure("glibc without posix_spawn_file_actions_addclosefrom_np (2.34 or later is needed)")
        }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        // A clean signal state: the test runner's threads block most signals.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        // Its own process group: Apache's prefork MPM signals its whole
        // group on shutdown, which would otherwise include the test runner.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw TestFailure("posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        pid = child
    }

    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exitStatus = status
            return false
        }
        return true
    }

    /// The exit code when it exited normally, nil when a signal ended it.
    var exitCode: Int32? {
        guard let s = exitStatus, s & 0x7F == 0 else { return nil }
        return (s >> 8) & 0xFF
    }

    /// Direct children, from /proc.
    var children: [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// SIGTERM, wait up to `grace` seconds, then SIGKILL. Returns whether it
    /// stopped on SIGTERM alone.
    @discardableResult
    func stop(grace: Double = 15) -> Bool {
        guard isRunning else { return true }
        kill(pid, SIGTERM)
        if waitUntil(seconds: grace, { !isRunning }) { return true }
        kill(pid, SIGKILL)
        _ = waitUntil(seconds: 5) { !isRunning }
        return false
    }

    deinit {
        if isRunning {
            let family = children
            kill(pid, SIGKILL)
            family.forEach { kill($0, SIGKILL) }
            _ = waitUntil(seconds: 5) { !isRunning }
        }
    }
}
