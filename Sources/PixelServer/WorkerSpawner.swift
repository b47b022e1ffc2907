import PixelSystem

/// How the supervisor starts, watches and stops its workers: processes, or
/// a double in tests.
protocol WorkerSpawner {
    /// Starts a worker; its process id.
    func spawn() -> Result<Int32, SystemError>
    func waitForChild(block: Bool) -> ProcessControl.Wait
    func terminate(_ pid: Int32)
    func kill(_ pid: Int32)
    func pause(millis: Int)
}
