import Foundation
import PlinthControl
import PlinthCore
import XCTest

/// GPU indices belong to a placement and survive a control-plane restart: a running replica
/// keeps its GPU, and no GPU is ever handed to two replicas.
final class GPUPlacementRestartTests: XCTestCase {
    static func registration() -> RegisterRequest {
        let gpus = (0..<2).map {
            GPUDevice(index: $0, name: "NVIDIA T4", memoryBytes: 16 << 30, uuid: "GPU-test-\($0)")
        }
        return RegisterRequest(
            nodeName: "gpu-node", agentVersion: "test",
            capacity: NodeCapacity(cpuMillicores: 16_000, memoryBytes: 64 << 30, gpus: gpus),
            isolation: .minimal(runsAsRoot: false))
    }

    func deploy(_ h: ControlHarness, _ name: String) {
        h.expect(
            201, .PUT, "/v1/tenants/acme/deployments/\(name)",
            json: [
                "versions": [["model": "llm", "version": "1"]], "instanceClass": "gpu-small", "minReplicas": 1,
                "maxReplicas": 1,
            ])
    }

    /// One heartbeat reporting `running` as ready; returns replica id → GPU indices it should run on.
    func beat(_ h: ControlHarness, _ worker: String, running: [String: [Int]]) throws -> [String: [Int]] {
        let reports = running.keys.sorted().map {
            PlinthCore.ReplicaReport(
                id: $0, phase: .ready, endpoint: "unix:/tmp/\($0).sock", restarts: 0, condition: nil)
        }
        let state = try h.heartbeat(worker, replicas: reports)
        return Dictionary(state.replicas.map { ($0.id, $0.gpuIndices) }, uniquingKeysWith: { a, _ in a })
    }

    /// Before the restart: "a" takes GPU 0, "b" GPU 1; then "a" goes away, so "b" runs on GPU 1
    /// with GPU 0 free — the GPU a scheduler picking afresh would give "b". Returns the data
    /// directory, the worker id and b's replica id; the plane is gone when it returns.
    func runFirstPlane() throws -> (directory: String, worker: String, b: String) {
        let h = try ControlHarness(inMemoryDisk: false)
        h.removesDirectory = false
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "llm")
        h.upload(tenant: "acme", model: "llm", version: "1")
        h.expect(
            201, .PUT, "/v1/instance-classes/gpu-small",
            json: ["vcpus": 1, "memoryBytes": 1 << 30, "gpuCount": 1, "gpuKind": "nvidia"])
        let worker = try h.plane.registerWorker(Self.registration(), tokenID: nil).workerID
        deploy(h, "a")
        let a = try beat(h, worker, running: [:])
        XCTAssertEqual(Array(a.values), [[0]])
        deploy(h, "b")
        let both = try beat(h, worker, running: a)
        let bID = try XCTUnwrap(both.keys.first { a[$0] == nil })
        XCTAssertEqual(both[bID], [1])
        h.expect(204, .DELETE, "/v1/tenants/acme/deployments/a")
        XCTAssertEqual(try beat(h, worker, running: [bID: [1]]), [bID: [1]])
        return (h.directory, worker, bID)
    }

    func testRunningReplicasKeepTheirGPUsAcrossAControlPlaneRestart() throws {
        let (directory, worker, bID) = try runFirstPlane()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let restarted = try ControlHarness(inMemoryDisk: false, reopening: directory)
        XCTAssertEqual(
            try beat(restarted, worker, running: [bID: [1]]), [bID: [1]],
            "the running replica keeps GPU 1 after the restart")
        // A newcomer gets the free GPU, never the held one; a third replica fits nowhere.
        deploy(restarted, "c")
        let after = try beat(restarted, worker, running: [bID: [1]])
        XCTAssertEqual(after[bID], [1])
        let cID = try XCTUnwrap(after.keys.first { $0 != bID })
        XCTAssertEqual(after[cID], [0])
        deploy(restarted, "d")
        let full = try beat(restarted, worker, running: after)
        XCTAssertEqual(full, after, "no GPU is shared")
        let status = restarted.expect(200, .GET, "/v1/tenants/acme/deployments/d/status").text
        XCTAssertTrue(status.contains("Unschedulable: no worker has 1 GPU of kind nvidia free"), status)
    }
}
