import Foundation
import PlinthCore
import XCTest

@testable import PlinthWorker

#if canImport(Glibc)
    import Glibc
#endif

/// The launcher as a non-root agent would run it: a user namespace (uid 1000 inside mapped
/// to the agent's uid, so no capabilities survive the exec), and the mount namespace alone hides the neighbours.
final class UnprivilegedSandboxTests: XCTestCase {
    func testUnprivilegedLauncherIsolatesWithAUserNamespace() throws {
        let launcher = try SandboxHarness.launcherPath()
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv(1) to act as an unprivileged agent")
        }
        let nobody: UInt32 = 65534
        let root = "/tmp/plinth-userns-test-" + UUID().uuidString.prefix(8).lowercased()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        for dir in [root, data, data + "/a", data + "/a/artifact", data + "/a/run", data + "/b", data + "/b/artifact"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            chown(dir, nobody, nobody)
        }
        chmod(root, 0o755)
        try "mine".write(toFile: data + "/a/artifact/m", atomically: false, encoding: .utf8)
        try "theirs".write(toFile: data + "/b/artifact/m", atomically: false, encoding: .utf8)
        chmod(data + "/b/artifact/m", 0o444)
        let spec = SandboxSpec(
            executable: "sh",
            arguments: [
                "sh", "-c",
                "echo uid=$(id -u) self=$$; cat m; echo; umount \(data) 2>/dev/null || echo cannot-unmount; cat \(data)/b/artifact/m || echo hidden; touch m2 || echo read-only; touch \(data)/a/run/s && echo run-ok",
            ],
            workingDirectory: data + "/a/artifact", namespaces: .all,
            readOnlyPaths: [data + "/a/artifact"], writablePaths: [data + "/a/run"], hiddenPaths: [data])
        let specPath = root + "/spec.json"
        try JSONEncoder().encode(spec).write(to: URL(fileURLWithPath: specPath))
        chown(specPath, nobody, nobody)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = [
            "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", launcher, "sandbox-exec", specPath,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if output.contains("unshare failed") { throw XCTSkip("user namespaces are not allowed here: \(output)") }
        XCTAssertEqual(process.terminationStatus, 0, output)
        for expected in ["uid=1000 self=2", "mine", "cannot-unmount", "hidden", "read-only", "run-ok"] {
            XCTAssertTrue(output.contains(expected), "missing '\(expected)' in: \(output)")
        }
        XCTAssertFalse(output.contains("theirs"), output)
    }
}

/// Replicas never outlive the process that supervises them.
final class SupervisorDeathTests: XCTestCase {
    func testReplicaDiesWhenItsSupervisingProcessIsKilled() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let dir = harness.root + "/orphan"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let marker = "plinth-orphan-\(UUID().uuidString.prefix(8))"
        let spec = SandboxSpec(
            executable: "/usr/bin/python3", arguments: ["python3", "-c", "import time; time.sleep(60)", marker],
            workingDirectory: "/",
            namespaces: SandboxNamespaces(pid: true, mount: true, network: true))
        try JSONEncoder().encode(spec).write(to: URL(fileURLWithPath: dir + "/spec.json"))
        // A stand-in agent: a shell that starts the launcher and waits.
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/bin/sh")
        agent.arguments = ["-c", "'\(harness.sandbox.launcherPath)' sandbox-exec '\(dir)/spec.json' & wait"]
        try agent.run()
        XCTAssertTrue(SandboxHarness.waitUntil { Self.processes(named: marker) > 0 }, "the replica started")
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()
        XCTAssertTrue(
            SandboxHarness.waitUntil { Self.processes(named: marker) == 0 }, "the replica died with its agent")
    }

    /// How many processes have `name` among their arguments.
    static func processes(named name: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard Int(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                return false
            }
            return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == name }
        }.count
    }
}

final class StaleStateTests: XCTestCase {
    func testStaleReplicaCgroupsAreKilledAndRemovedAtStart() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        guard harness.hierarchy.mode != .none else { throw XCTSkip("no writable cgroups on this host") }
        let group = try ReplicaCgroup.create(
            in: harness.hierarchy, name: "replica-leftover", limits: CgroupLimits(pids: 8))
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        for file in group.procsFiles { try writeSmallFile(file, String(sleeper.processIdentifier)) }
        XCTAssertEqual(group.pids(), [sleeper.processIdentifier])
        XCTAssertEqual(harness.hierarchy.removeStaleReplicaGroups(), 1)
        sleeper.waitUntilExit()
        XCTAssertEqual(sleeper.terminationReason, .uncaughtSignal)
        for dir in group.directories.values { XCTAssertFalse(FileManager.default.fileExists(atPath: dir)) }
    }
}
