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

    /// Polls `condition` every 100 ms (and once more at the deadline); on timeout throws with
    /// each worker's latest stderr and any process still running under `root`.
    func waitUntil(_ what: String, timeout: TimeInterval, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        if try condition() { return }
        let logs = workers.map { "\($0.key): \($0.value.stderrText.suffix(1500))" }.joined(separator: "\n")
        let left = root.isEmpty
            ? [] : MultiWorkerTests.processes(matching: root).map { MultiWorkerTests.argv($0).joined(separator: " ") }
        throw NSError(
            domain: String(describing: type(of: self)), code: 1,
            userInfo: [NSLocalizedDescriptionKey: "timed out waiting for \(what)\n\(left)\n\(logs)"])
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
