import Foundation
import XCTest

@testable import PlinthWorker

final class SandboxSpecTests: XCTestCase {
    func testSpecRoundTripsThroughJSON() throws {
        let spec = SandboxSpec(
            executable: "/bin/sh", arguments: ["sh", "-c", "echo hi"], environment: ["A": "1"],
            workingDirectory: "/tmp", uid: 60001, gid: 60001, namespaces: .all,
            cgroupProcsFiles: ["/sys/fs/cgroup/memory/x/cgroup.procs"], readOnlyPaths: ["/tmp/a"])
        let data = try JSONEncoder().encode(spec)
        XCTAssertEqual(try SandboxLauncher.decodeSpec(data), spec)
    }

    func testInvalidSpecsAreRejectedWithTheReason() {
        let cases: [(String, String)] = [
            (#"{"executable":""}"#, "not a sandbox spec"),
            ("not json", "not a sandbox spec"),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try SandboxLauncher.decodeSpec(Data(json.utf8))) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        var spec = SandboxSpec(executable: "/bin/true", arguments: ["true"], workingDirectory: "relative")
        spec.readOnlyPaths = ["/data/../etc"]
        spec.hiddenPaths = ["/data"]
        spec.uid = 5
        spec.environment = ["A=B": "x"]
        let problems = spec.validate()
        XCTAssertEqual(problems.count, 5, "\(problems)")
    }

    func testUnshareFlagsUseUserNamespaceOnlyWhenNotRoot() {
        let spec = SandboxSpec(executable: "/bin/true", arguments: ["true"], workingDirectory: "/", namespaces: .all)
        let asRoot = SandboxLauncher.unshareFlags(for: spec, isRoot: true)
        let asUser = SandboxLauncher.unshareFlags(for: spec, isRoot: false)
        XCTAssertEqual(asUser & ~asRoot, 0x1000_0000)
        XCTAssertEqual(
            SandboxLauncher.unshareFlags(
                for: SandboxSpec(executable: "x", arguments: ["x"], workingDirectory: "/"), isRoot: true), 0)
    }

    func testMountLayoutCoversOnlyOutermostHiddenPaths() {
        let spec = SandboxSpec(
            executable: "/bin/true", arguments: ["true"], workingDirectory: "/",
            namespaces: .all, readOnlyPaths: ["/data/r1/artifact"], writablePaths: ["/data/r1/run"],
            hiddenPaths: ["/data/r1", "/data/", "/tmp"])
        let layout = MountLayout(spec: spec)
        XCTAssertEqual(layout.covers, ["/tmp", "/data"])
        XCTAssertTrue(MountLayout.isInside("/data/r1", "/data"))
        XCTAssertFalse(MountLayout.isInside("/database", "/data"))
    }
}

final class DedicatedUIDsTests: XCTestCase {
    func testUIDsAreUniqueAcrossAgentsAndStablePerReplica() throws {
        let dir = "/tmp/plinth-uid-test-" + UUID().uuidString.prefix(8).lowercased()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let agentA = DedicatedUIDs(lockDirectory: dir, range: 100...102)
        let agentB = DedicatedUIDs(lockDirectory: dir, range: 100...102)
        let x = try agentA.acquire(for: "x")
        let y = try agentB.acquire(for: "y")
        XCTAssertNotEqual(x, y, "another agent on the host holds it")
        XCTAssertEqual(try agentA.acquire(for: "x"), x, "a replica keeps its uid")
        _ = try agentA.acquire(for: "z")
        XCTAssertThrowsError(try agentB.acquire(for: "w"), "range exhausted")
        agentA.release("x")
        XCTAssertEqual(try agentB.acquire(for: "w"), x, "released uids are reused")
    }
}
