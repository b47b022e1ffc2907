import PixelSystem

/// Workers as forked processes sharing the listening socket.
struct WorkerProcesses: WorkerSpawner {
    let listenFD: Int32
    let worker: (Int32) -> Void

    func spawn() -> Result<Int32, SystemError> {
        let pid = ProcessControl.fork()
        if pid == 0 {
            ProcessControl.terminateWithParent()
            // The supervisor may have died between fork and prctl.
            if ProcessControl.parentID == 1 { ProcessControl.exit(0) }
            worker(listenFD)
            ProcessControl.exit(0)
        }
        if pid < 0 { return .failure(SystemError("fork", "", errno: ProcessControl.lastError)) }
        return .success(pid)
    }

    func waitForChild(block: Bool) -> ProcessControl.Wait { ProcessControl.waitForChild(block: block) }
    func terminate(_ pid: Int32) { ProcessControl.terminate(pid) }
    func kill(_ pid: Int32) { ProcessControl.kill(pid) }
    func pause(millis: Int) { SystemClock.sleep(millis: millis) }
}
