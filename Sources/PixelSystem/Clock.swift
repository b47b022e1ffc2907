#if canImport(Glibc)
import Glibc
#endif

/// The clocks and sleeping, for the modules that do I/O (the pure core is
/// given the time instead). Wall time stamps events and names files; the
/// monotonic clock measures deadlines, which a clock step must not move.
public enum SystemClock {
    /// Wall-clock time in milliseconds since the Unix epoch. The
    /// corresponding C function is `clock_gettime(CLOCK_REALTIME)`.
    public static func nowMillis() -> Int64 { millis(now(CLOCK_REALTIME)) }

    /// Wall-clock time in nanoseconds since the Unix epoch.
    public static func nowNanos() -> Int64 {
        let ts = now(CLOCK_REALTIME)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Milliseconds on a clock that only moves forward (`CLOCK_MONOTONIC`),
    /// for timeouts and deadlines.
    public static func monotonicMillis() -> Int64 { millis(now(CLOCK_MONOTONIC)) }

    /// A `timespec` (a file's times, say) in milliseconds.
    public static func millis(_ ts: timespec) -> Int64 {
        Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Sleeps `ms` milliseconds, resuming after signals. The corresponding
    /// C function is `nanosleep(2)`.
    public static func sleep(millis ms: Int) {
        var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// Sleeps `ms` milliseconds unless a signal arrives first: for loops
    /// that must look at a stop flag as soon as SIGTERM lands.
    public static func nap(millis ms: Int) {
        var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
        _ = nanosleep(&request, nil)
    }

    private static func now(_ clock: clockid_t) -> timespec {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return ts
    }
}
