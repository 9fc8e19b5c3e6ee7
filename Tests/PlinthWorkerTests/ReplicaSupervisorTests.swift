import Foundation
import PlinthCore
import XCTest

@testable import PlinthWorker

#if canImport(Glibc)
    import Glibc
#endif

/// The supervisor with real processes: OOM kills, crash loops, kills, hangs, drains.
final class ReplicaSupervisorTests: XCTestCase {
    let fastPolicy = ReplicaLifecyclePolicy(
        startupTimeout: 20, probeInterval: 0.2, probeTimeout: 1, failureThreshold: 2, backoffBase: 0.1, backoffCap: 0.4,
        stableAfter: 60, crashLoopThreshold: 3, drainGrace: 3)

    func makeSupervisor(_ harness: SandboxHarness) -> ReplicaSupervisor {
        let supervisor = ReplicaSupervisor(
            sandbox: harness.sandbox, policy: fastPolicy,
            logger: Logger(component: "worker-test", minimumLevel: .error),
            tickInterval: 0.02)
        supervisor.start()
        return supervisor
    }

    func serverLaunch(_ harness: SandboxHarness, id: String, mode: String = "serve") throws -> ReplicaLaunch {
        let script = try harness.cachedFile("server-\(id).py", FixtureRuntimes.oipServer)
        return ReplicaLaunch(
            id: id, command: ["/usr/bin/python3", "server.py", mode], files: ["server.py": script],
            limits: SandboxHarness.limits)
    }

    func testReplicaOverItsMemoryLimitIsOOMKilledWhileAnotherKeepsRunning() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        guard harness.hierarchy.mode != .none else { throw XCTSkip("no writable cgroups on this host") }
        let supervisor = makeSupervisor(harness)
        defer { supervisor.shutdown() }
        var small = SandboxHarness.limits
        small.memoryBytes = 48 << 20
        // tail buffers /dev/zero looking for a newline that never comes: it allocates forever.
        let hog = ReplicaLaunch(
            id: "hog", command: ["/bin/sh", "-c", "echo eating; exec tail /dev/zero"], limits: small)
        let calm = try serverLaunch(harness, id: "calm")
        supervisor.reconcile([hog, calm])
        XCTAssertTrue(
            SandboxHarness.waitUntil { supervisor.snapshot(of: "calm")?.phase == .ready }, "\(supervisor.snapshot())")
        let calmPID = supervisor.snapshot(of: "calm")?.pid
        XCTAssertTrue(
            SandboxHarness.waitUntil {
                let reason = supervisor.snapshot(of: "hog")?.condition?.reason
                return reason == "OOMKilled" || reason == "CrashLoopBackOff"
            }, "\(String(describing: supervisor.snapshot(of: "hog")))")
        let condition = supervisor.snapshot(of: "hog")?.condition
        XCTAssertEqual(condition?.exitStatus, .signaled(SIGKILL))
        XCTAssertTrue(
            condition?.message.contains("memory") == true || condition?.message.contains("OOMKilled") == true,
            "\(String(describing: condition))")
        XCTAssertTrue(condition?.logTail.contains("eating") == true, "\(String(describing: condition))")
        let calmNow = supervisor.snapshot(of: "calm")
        XCTAssertEqual(calmNow?.phase, .ready)
        XCTAssertEqual(calmNow?.pid, calmPID, "the neighbour was not restarted")
        XCTAssertEqual(calmNow?.restarts, 0)
        XCTAssertTrue(
            ReadinessProbe.isReady(socketPath: String(calmNow?.endpoint?.dropFirst(5) ?? ""), timeoutSeconds: 5))
    }

    func testCrashLoopingCommandBacksOffAndReportsExitStatusAndLogTail() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let supervisor = makeSupervisor(harness)
        defer { supervisor.shutdown() }
        supervisor.reconcile([
            ReplicaLaunch(
                id: "crasher",
                command: ["/bin/sh", "-c", "echo loading model >&2; echo cannot open weights >&2; exit 3"],
                limits: SandboxHarness.limits)
        ])
        XCTAssertTrue(
            SandboxHarness.waitUntil { supervisor.snapshot(of: "crasher")?.condition?.reason == "CrashLoopBackOff" },
            "\(String(describing: supervisor.snapshot(of: "crasher")))")
        let snapshot = try XCTUnwrap(supervisor.snapshot(of: "crasher"))
        XCTAssertGreaterThanOrEqual(snapshot.restarts, 2)
        XCTAssertEqual(snapshot.condition?.exitStatus, .exited(3))
        XCTAssertEqual(snapshot.condition?.logTail.suffix(2), ["loading model", "cannot open weights"])
        XCTAssertTrue(
            snapshot.condition?.message.contains("exit code 3") == true, "\(String(describing: snapshot.condition))")
        XCTAssertNotEqual(snapshot.phase, .ready)
    }

    func testKilledReplicaIsRestartedAndBecomesReadyAgain() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let supervisor = makeSupervisor(harness)
        defer { supervisor.shutdown() }
        supervisor.reconcile([try serverLaunch(harness, id: "victim")])
        XCTAssertTrue(
            SandboxHarness.waitUntil { supervisor.snapshot(of: "victim")?.phase == .ready }, "\(supervisor.snapshot())")
        let launcher = try XCTUnwrap(supervisor.snapshot(of: "victim")?.pid)
        // The model process is the launcher's grandchild (launcher → namespace init → replica).
        let replica = try XCTUnwrap(Self.children(of: Self.children(of: launcher).first ?? -1).first)
        XCTAssertEqual(kill(replica, SIGKILL), 0)
        XCTAssertTrue(
            SandboxHarness.waitUntil {
                let s = supervisor.snapshot(of: "victim")
                return s?.restarts == 1 && s?.phase == .ready
            }, "\(supervisor.snapshot())")
        let snapshot = try XCTUnwrap(supervisor.snapshot(of: "victim"))
        XCTAssertEqual(snapshot.condition, nil, "ready again clears the condition")
        XCTAssertNotEqual(snapshot.pid, launcher)
    }

    func testHungReplicaIsKilledAsUnresponsiveAndRestarted() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let supervisor = makeSupervisor(harness)
        defer { supervisor.shutdown() }
        supervisor.reconcile([try serverLaunch(harness, id: "hanger", mode: "hang-after-ready")])
        var sawReady = false
        var sawUnresponsive = false
        XCTAssertTrue(
            SandboxHarness.waitUntil(timeout: 30) {
                let s = supervisor.snapshot(of: "hanger")
                if s?.phase == .ready { sawReady = true }
                if s?.condition?.reason == "Unresponsive" { sawUnresponsive = true }
                return sawReady && sawUnresponsive && (s?.restarts ?? 0) >= 1
            }, "\(supervisor.snapshot())")
    }

    func testRemovedReplicaIsDrainedAndItsFolderRemoved() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let supervisor = makeSupervisor(harness)
        defer { supervisor.shutdown() }
        supervisor.reconcile([try serverLaunch(harness, id: "leaver")])
        XCTAssertTrue(
            SandboxHarness.waitUntil { supervisor.snapshot(of: "leaver")?.phase == .ready }, "\(supervisor.snapshot())")
        let pid = try XCTUnwrap(supervisor.snapshot(of: "leaver")?.pid)
        supervisor.reconcile([])
        XCTAssertTrue(SandboxHarness.waitUntil { supervisor.snapshot().isEmpty }, "\(supervisor.snapshot())")
        XCTAssertEqual(kill(pid, 0), -1, "the process is gone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.sandbox.directory(of: "leaver")))
    }

    func testChangedDefinitionReplacesTheReplica() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let supervisor = makeSupervisor(harness)
        defer { supervisor.shutdown() }
        var launch = try serverLaunch(harness, id: "changer")
        supervisor.reconcile([launch])
        XCTAssertTrue(
            SandboxHarness.waitUntil { supervisor.snapshot(of: "changer")?.phase == .ready }, "\(supervisor.snapshot())"
        )
        let firstPID = supervisor.snapshot(of: "changer")?.pid
        launch.environment["NEW_SETTING"] = "1"
        supervisor.reconcile([launch])
        XCTAssertTrue(
            SandboxHarness.waitUntil {
                let s = supervisor.snapshot(of: "changer")
                return s?.phase == .ready && s?.pid != firstPID
            }, "\(supervisor.snapshot())")
    }

    /// Child pids of `pid`, from /proc/*/stat.
    static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> pid_t? in
            guard let candidate = pid_t(name),
                let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == pid ? candidate : nil
        }
    }
}
