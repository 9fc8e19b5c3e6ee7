import PlinthCore
import XCTest

@testable import PlinthWorker

final class ReplicaLifecycleTests: XCTestCase {
    let policy = ReplicaLifecyclePolicy(
        startupTimeout: 10, probeInterval: 1, probeTimeout: 2, failureThreshold: 2, backoffBase: 1, backoffCap: 8,
        stableAfter: 30, crashLoopThreshold: 3, drainGrace: 5)

    func testStartSpawnsProbesAndBecomesReady() {
        var life = ReplicaLifecycle(policy: policy)
        XCTAssertEqual(life.handle(.start, now: 0), [.spawn])
        XCTAssertEqual(life.phase, .starting)
        XCTAssertEqual(life.handle(.spawned, now: 0), [.probe])
        XCTAssertEqual(life.handle(.tick, now: 0.5), [], "one probe at a time")
        XCTAssertEqual(life.handle(.probeResult(ready: false), now: 0.5), [])
        XCTAssertEqual(life.phase, .starting)
        XCTAssertEqual(life.handle(.tick, now: 1.6), [.probe])
        _ = life.handle(.probeResult(ready: true), now: 1.7)
        XCTAssertEqual(life.phase, .ready)
        XCTAssertNil(life.condition)
    }

    func testStartupTimeIsMeasuredFromStartToFirstReadyProbeForEachProcess() {
        var life = ReplicaLifecycle(policy: policy)
        _ = life.handle(.start, now: 10)
        _ = life.handle(.spawned, now: 10.2)
        XCTAssertNil(life.startupSeconds)
        _ = life.handle(.probeResult(ready: true), now: 11.5)
        XCTAssertEqual(life.startupSeconds ?? 0, 1.5, accuracy: 1e-9)
        // Later probes do not move it; a restart starts a new measurement.
        _ = life.handle(.tick, now: 13)
        _ = life.handle(.probeResult(ready: true), now: 13.1)
        XCTAssertEqual(life.startupSeconds ?? 0, 1.5, accuracy: 1e-9)
        _ = life.handle(.exited(status: .exited(1), oomKilled: false, logTail: []), now: 20)
        XCTAssertEqual(life.restartAt, 21)
        _ = life.handle(.tick, now: 21)
        XCTAssertNil(life.startupSeconds)
        _ = life.handle(.spawned, now: 21)
        _ = life.handle(.probeResult(ready: true), now: 21.25)
        XCTAssertEqual(life.startupSeconds ?? 0, 0.25, accuracy: 1e-9)
        XCTAssertEqual(life.restarts, 1)
    }

    func testBackoffDoublesUpToTheCap() {
        XCTAssertEqual((1...6).map { policy.backoff(afterFailures: $0) }, [1, 2, 4, 8, 8, 8])
        XCTAssertEqual(policy.backoff(afterFailures: 0), 0)
        XCTAssertEqual(ReplicaLifecyclePolicy(backoffBase: 1, backoffCap: 60).backoff(afterFailures: 500), 60)
    }

    func testCrashesRestartAfterBackoffAndBecomeCrashLoop() {
        var life = ReplicaLifecycle(policy: policy)
        var now = 0.0
        _ = life.handle(.start, now: now)
        for attempt in 1...4 {
            _ = life.handle(.spawned, now: now)
            let actions = life.handle(
                .exited(status: .exited(3), oomKilled: false, logTail: ["boom \(attempt)"]), now: now)
            XCTAssertEqual(actions, [.cleanup])
            XCTAssertEqual(life.phase, .failed)
            let delay = policy.backoff(afterFailures: attempt)
            XCTAssertEqual(life.restartAt, now + delay)
            XCTAssertEqual(life.handle(.tick, now: now + delay - 0.01), [], "no restart before the back-off ends")
            now += delay
            XCTAssertEqual(life.handle(.tick, now: now), [.spawn])
            XCTAssertEqual(life.restarts, attempt)
        }
        _ = life.handle(.spawned, now: now)
        _ = life.handle(.exited(status: .exited(3), oomKilled: false, logTail: ["last words"]), now: now)
        XCTAssertEqual(life.condition?.reason, "CrashLoopBackOff")
        XCTAssertEqual(life.condition?.exitStatus, .exited(3))
        XCTAssertEqual(life.condition?.logTail, ["last words"])
    }

    func testOOMKillIsReportedAsOOMKilled() {
        var life = ReplicaLifecycle(policy: policy)
        _ = life.handle(.start, now: 0)
        _ = life.handle(.spawned, now: 0)
        _ = life.handle(.exited(status: .signaled(9), oomKilled: true, logTail: []), now: 1)
        XCTAssertEqual(life.condition?.reason, "OOMKilled")
        XCTAssertEqual(life.condition?.exitStatus, .signaled(9))
    }

    func testStableReplicaResetsItsFailureCount() {
        var life = ReplicaLifecycle(policy: policy)
        _ = life.handle(.start, now: 0)
        _ = life.handle(.spawned, now: 0)
        _ = life.handle(.exited(status: .exited(1), oomKilled: false, logTail: []), now: 0)
        _ = life.handle(.tick, now: 1)
        _ = life.handle(.spawned, now: 1)
        _ = life.handle(.probeResult(ready: true), now: 1)
        XCTAssertEqual(life.phase, .ready)
        XCTAssertEqual(life.consecutiveFailures, 1)
        _ = life.handle(.tick, now: 40)
        XCTAssertEqual(life.consecutiveFailures, 0)
    }

    func testHungReplicaIsKilledAfterMissedProbes() {
        var life = ReplicaLifecycle(policy: policy)
        _ = life.handle(.start, now: 0)
        _ = life.handle(.spawned, now: 0)
        _ = life.handle(.probeResult(ready: true), now: 0)
        XCTAssertEqual(life.handle(.tick, now: 1), [.probe])
        XCTAssertEqual(life.handle(.tick, now: 3.1), [], "first missed deadline counts one failure")
        XCTAssertEqual(life.handle(.tick, now: 4.2), [.probe])
        XCTAssertEqual(life.handle(.tick, now: 6.3), [.signal(9)])
        XCTAssertEqual(life.handle(.tick, now: 9), [], "killed once")
        _ = life.handle(.exited(status: .signaled(9), oomKilled: false, logTail: []), now: 9)
        XCTAssertEqual(life.condition?.reason, "Unresponsive")
        XCTAssertEqual(life.phase, .failed)
    }

    func testStartupTimeoutKillsASlowReplica() {
        var life = ReplicaLifecycle(policy: policy)
        _ = life.handle(.start, now: 0)
        _ = life.handle(.spawned, now: 0)
        _ = life.handle(.probeResult(ready: false), now: 0.1)
        XCTAssertEqual(life.handle(.tick, now: 10.5), [.signal(9)])
        _ = life.handle(.exited(status: .signaled(9), oomKilled: false, logTail: []), now: 10.6)
        XCTAssertEqual(life.condition?.reason, "StartupTimeout")
    }

    func testStopDrainsWithTermThenKillAfterGrace() {
        var life = ReplicaLifecycle(policy: policy)
        _ = life.handle(.start, now: 0)
        _ = life.handle(.spawned, now: 0)
        _ = life.handle(.probeResult(ready: true), now: 0)
        XCTAssertEqual(life.handle(.stop, now: 1), [.signal(15)])
        XCTAssertEqual(life.phase, .draining)
        XCTAssertEqual(life.handle(.tick, now: 5.9), [])
        XCTAssertEqual(life.handle(.tick, now: 6.1), [.signal(9)])
        XCTAssertEqual(life.handle(.exited(status: .signaled(9), oomKilled: false, logTail: []), now: 6.2), [.cleanup])
        XCTAssertEqual(life.phase, .stopped)
        XCTAssertEqual(life.handle(.tick, now: 100), [], "a stopped replica is not restarted")
    }

    func testStopWhileWaitingForRestartStopsImmediately() {
        var life = ReplicaLifecycle(policy: policy)
        _ = life.handle(.start, now: 0)
        _ = life.handle(.spawnFailed(reason: "SpawnFailed", message: "no launcher"), now: 0)
        XCTAssertEqual(life.condition?.reason, "SpawnFailed")
        _ = life.handle(.stop, now: 0.5)
        XCTAssertEqual(life.phase, .stopped)
        XCTAssertEqual(life.handle(.tick, now: 10), [])
    }

    func testLogTailKeepsTheLastLinesBounded() {
        var tail = LogTail(maxLines: 3, maxLineBytes: 16)
        tail.append(Array("one\ntwo\nthree\nfour\n".utf8))
        tail.append(Array("a very long line that is truncated\nfive-no-newline".utf8))
        XCTAssertEqual(tail.lines, ["four", "a very long line", "five-no-newline"])
        XCTAssertEqual(tail.droppedLines, 2)
    }

    func testExitStatusDecodesWaitStatus() {
        XCTAssertEqual(ExitStatus(waitStatus: 3 << 8), .exited(3))
        XCTAssertEqual(ExitStatus(waitStatus: 9), .signaled(9))
        XCTAssertEqual(ExitStatus(waitStatus: 0x7f), .unknown)
        XCTAssertEqual(ExitStatus.signaled(9).description, "killed by signal 9 (SIGKILL)")
    }
}
