import Foundation
import PlinthCore
import XCTest

@testable import PlinthWorker

#if canImport(Glibc)
    import Glibc
#endif

/// The agent's lifeline: a replica dies when the pipe its agent holds closes, whether or not
/// the parent-death signal fires; and a new agent kills launchers an old one left behind.
final class LifelineTests: XCTestCase {
    /// Starts `plinth sandbox-exec` on a sleeping python3 (argv carries `marker`) with the
    /// parent-death signal off, so only the lifeline (when given) can end it.
    func startLauncher(
        _ harness: SandboxHarness, dir: String, marker: String, pid: Bool, lifeline: Int32?
    ) throws -> pid_t {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let spec = SandboxSpec(
            executable: "/usr/bin/python3", arguments: ["python3", "-c", "import time; time.sleep(60)", marker],
            workingDirectory: "/",
            namespaces: pid ? SandboxNamespaces(pid: true, mount: true, network: true) : SandboxNamespaces(),
            dieWithParent: false, lifelineFD: lifeline == nil ? nil : ChildProcess.lifelineChildFD)
        try JSONEncoder().encode(spec).write(to: URL(fileURLWithPath: dir + "/spec.json"))
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        return try ChildProcess.spawn(
            path: harness.sandbox.launcherPath,
            arguments: [harness.sandbox.launcherPath, "sandbox-exec", dir + "/spec.json"],
            environment: [], outputFD: devNull, lifeline: lifeline)
    }

    func testReplicaDiesWhenTheLifelineClosesEvenWithoutParentDeathSignal() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        for pidNamespace in [true, false] {
            var fds: [Int32] = [0, 0]
            XCTAssertEqual(pipe(&fds), 0)
            // Close-on-exec like the agent's: the write end must not reach the launcher.
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            let marker = "plinth-lifeline-\(UUID().uuidString.prefix(8))"
            let launcher = try startLauncher(
                harness, dir: harness.root + "/l-\(pidNamespace)", marker: marker, pid: pidNamespace, lifeline: fds[0])
            close(fds[0])
            XCTAssertTrue(
                SandboxHarness.waitUntil { SupervisorDeathTests.processes(named: marker) > 0 }, "the replica started")
            usleep(200_000)
            XCTAssertEqual(SupervisorDeathTests.processes(named: marker), 1, "still running while the agent lives")
            close(fds[1])  // what the kernel does when the agent dies
            XCTAssertTrue(
                SandboxHarness.waitUntil { SupervisorDeathTests.processes(named: marker) == 0 },
                "the replica died with its lifeline (PID namespace: \(pidNamespace))")
            var status: Int32 = 0
            XCTAssertEqual(waitpid(launcher, &status, 0), launcher)
        }
    }

    func testANewAgentKillsLaunchersAnOldOneLeftRunning() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let replicas = harness.root + "/stale"
        let marker = "plinth-stale-\(UUID().uuidString.prefix(8))"
        let launcher = try startLauncher(
            harness, dir: replicas + "/r-old", marker: marker, pid: true, lifeline: nil)
        try "\(launcher)\n".write(toFile: replicas + "/r-old/launcher.pid", atomically: false, encoding: .utf8)
        // A pid file naming a process that is not that folder's launcher is left alone.
        try FileManager.default.createDirectory(atPath: replicas + "/r-other", withIntermediateDirectories: true)
        try "\(getpid())\n".write(toFile: replicas + "/r-other/launcher.pid", atomically: false, encoding: .utf8)
        XCTAssertTrue(SandboxHarness.waitUntil { SupervisorDeathTests.processes(named: marker) > 0 })

        XCTAssertEqual(ReplicaSandbox.killStaleLaunchers(replicasDirectory: replicas), 1)
        XCTAssertTrue(SandboxHarness.waitUntil { SupervisorDeathTests.processes(named: marker) == 0 })
        var status: Int32 = 0
        XCTAssertEqual(waitpid(launcher, &status, 0), launcher)
        XCTAssertEqual(ReplicaSandbox.killStaleLaunchers(replicasDirectory: replicas), 0)
    }
}
