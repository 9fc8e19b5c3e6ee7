import Foundation
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Base of the end-to-end tests that start `plinth worker`s under `root`: at teardown each worker
/// is SIGKILLed (its replicas die with it) and anything a failed test left under `root` is ended
/// and removed.
class WorkerProcessTestCase: XCTestCase {
    var workers: [String: PlinthProcess] = [:]
    var root = ""

    /// The one worker of tests that start a single one.
    var worker: PlinthProcess? {
        get { workers["worker"] }
        set { workers["worker"] = newValue }
    }

    override func tearDown() {
        for worker in workers.values {
            worker.signal(SIGKILL)
            _ = worker.waitForExit(timeout: 10)
        }
        if !root.isEmpty {
            for pid in MultiWorkerTests.processes(matching: root) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: root)
        }
        super.tearDown()
    }
}
