import Testing
@testable import PixelServer
import PixelSystem

/// Workers that exist only on paper: the test scripts when they die and
/// whether they heed SIGTERM, and reads what the supervisor did.
final class FakeWorkers: WorkerSpawner {
    var spawned: [Int32] = []
    var terminated: [Int32] = []
    var killed: [Int32] = []
    var pauses: [Int] = []
    /// What blocking waits return, in turn; after the script, `stop` is set.
    var deaths: [Int32] = []
    var stop = false
    var heedTerminate = true
    /// Every fork fails (no memory, a process limit reached).
    var forkFails = false
    private var ended: [Int32] = []
    private var nextPid: Int32 = 100

    func spawn() -> Result<Int32, SystemError> {
        if forkFails { return .failure(SystemError("fork", "", errno: 11)) }
        defer { nextPid += 1 }
        spawned.append(nextPid)
        return .success(nextPid)
    }

    func waitForChild(block: Bool) -> ProcessControl.Wait {
        if block {
            if deaths.isEmpty { stop = true; return .interrupted }
            return .ended(pid: deaths.removeFirst(), status: 256)
        }
        if let pid = ended.popLast() { return .ended(pid: pid, status: 0) }
        return .noneYet
    }

    func terminate(_ pid: Int32) {
        terminated.append(pid)
        if heedTerminate { ended.append(pid) }
    }

    func kill(_ pid: Int32) {
        killed.append(pid)
        ended.append(pid)
    }

    /// Records the pause; a short one (the stop loop's) really waits a
    /// little, so that a grace period on the real clock passes without a spin.
    func pause(millis: Int) {
        pauses.append(millis)
        if millis < 1000 { SystemClock.sleep(millis: 1) }
    }
}

@Suite struct SupervisorTests {
    func supervisor(workers: Int) -> Supervisor {
        Supervisor(listen: "/unused", workers: workers, backlog: 1, socketMode: 0o600, logger: Logger())
    }

    @Test func aWorkerThatDiesIsReplacedAndAllAreStoppedAtTheEnd() {
        let workers = FakeWorkers()
        workers.deaths = [101]
        #expect(supervisor(workers: 2).supervise(workers, shouldStop: { workers.stop }))
        #expect(workers.spawned == [100, 101, 102])
        #expect(workers.terminated.sorted() == [100, 102])
        #expect(workers.killed.isEmpty)
        #expect(workers.pauses.allSatisfy { $0 < 1000 })
    }

    /// With no worker to run, serve ends as failed (exit 1, which systemd's
    /// Restart=on-failure acts on), not as if asked to stop.
    @Test func noWorkerStartedIsAFailure() {
        let workers = FakeWorkers()
        workers.forkFails = true
        #expect(!supervisor(workers: 2).supervise(workers, shouldStop: { workers.stop }))
        #expect(workers.spawned.isEmpty)
    }

    @Test func workersDeafToSIGTERMAreKilledAfterTheGrace() {
        let workers = FakeWorkers()
        workers.heedTerminate = false
        supervisor(workers: 3).supervise(workers, shouldStop: { workers.stop }, graceMillis: 50)
        #expect(workers.terminated.sorted() == [100, 101, 102])
        #expect(workers.killed.sorted() == [100, 101, 102])
    }

    @Test func aCrashLoopIsSlowedToOneStartASecond() {
        let workers = FakeWorkers()
        // The one worker dies at once, every time: 100, then each replacement.
        workers.deaths = Array(100...108)
        supervisor(workers: 1).supervise(workers, shouldStop: { workers.stop })
        #expect(workers.spawned.count == 10)
        // More than five deaths a worker within 10 s: a second's pause each.
        #expect(workers.pauses.filter { $0 == 1000 }.count == 4)
    }
}
