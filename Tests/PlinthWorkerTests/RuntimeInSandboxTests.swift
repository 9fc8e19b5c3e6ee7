import Foundation
import PlinthCore
import XCTest

@testable import PlinthWorker

/// The built-in runtime (`plinth runtime`) serving a real ONNX model inside the full sandbox.
final class RuntimeInSandboxTests: XCTestCase {
    func testBuiltInRuntimeBecomesReadyInsideTheSandbox() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let vectors = SandboxHarness.packageRoot + "/Tests/PlinthEngineTests/Vectors/logreg_30.onnx"
        guard let model = FileManager.default.contents(atPath: vectors) else {
            throw XCTSkip("no test model at \(vectors)")
        }
        let cached = harness.cacheDirectory + "/logreg"
        try model.write(to: URL(fileURLWithPath: cached))
        chmod(cached, 0o444)
        let planner = ReplicaPlanner(
            runtimeCommand: [harness.sandbox.launcherPath, "runtime"],
            replicasDirectory: harness.sandbox.replicasDirectory)
        let desired = DesiredReplica(
            id: "onnx-1", tenant: "acme", deployment: "logreg", version: "1", format: "onnx",
            artifact: ArtifactReference(
                sha256: String(repeating: "a", count: 64), sizeBytes: UInt64(model.count), downloadPath: "/x",
                fileName: "model.onnx"),
            limits: InstanceLimits(instanceClass: "cpu-small", cpuMillicores: 1000, memoryBytes: 512 << 20))
        let supervisor = ReplicaSupervisor(
            sandbox: harness.sandbox,
            policy: ReplicaLifecyclePolicy(startupTimeout: 30, probeInterval: 0.2, probeTimeout: 2),
            logger: Logger(component: "worker-test", minimumLevel: .error), tickInterval: 0.02)
        supervisor.start()
        defer { supervisor.shutdown() }
        supervisor.reconcile([try planner.launch(for: desired, artifactPath: cached)])
        XCTAssertTrue(
            SandboxHarness.waitUntil(timeout: 30) { supervisor.snapshot(of: "onnx-1")?.phase == .ready },
            "\(String(describing: supervisor.snapshot(of: "onnx-1")))")
        let socket = String(supervisor.snapshot(of: "onnx-1")?.endpoint?.dropFirst("unix:".count) ?? "")
        XCTAssertEqual(try ReadinessProbe.status(socketPath: socket, path: "/v2/models/logreg", timeoutSeconds: 5), 200)
    }
}
