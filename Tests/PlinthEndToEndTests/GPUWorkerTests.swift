import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The GPU path end to end without GPU hardware: a `plinth worker` whose PATH holds a fake
/// `nvidia-smi` (two GPUs) registers them, the scheduler gives each replica of a GPU class its
/// own GPU, the sandbox hands exactly that one to the replica (its runtime logs what it got,
/// read back through the logs API), and a third replica is unschedulable with a clear reason.
final class GPUWorkerTests: WorkerProcessTestCase {
    /// Answers only the query the GPU inventory makes, like nvidia-smi 5xx would.
    static let fakeNvidiaSmi = """
        #!/bin/sh
        case "$*" in
          *--query-gpu=index,name,memory.total,uuid*) ;;
          *) echo "fake nvidia-smi: unexpected arguments: $*" >&2; exit 2 ;;
        esac
        echo "0, NVIDIA Fake T4, 15360, GPU-fake-0000-0000"
        echo "1, NVIDIA Fake T4, 15360, GPU-fake-0000-0001"

        """

    func testEachGPUReplicaGetsExactlyItsOwnGPUAndAThirdIsUnschedulable() throws {
        root = try TestSupport.temporaryDirectory("plgp").path
        let bin = root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: bin + "/nvidia-smi", contents: Data(Self.fakeNvidiaSmi.utf8),
                attributes: [.posixPermissions: 0o755]))
        let cluster = try PlinthCluster(dataDirectory: root + "/s", arguments: ["--heartbeat-interval", "1"])
        defer { cluster.stop() }
        let tokenFile = root + "/token"
        try cluster.writeWorkerToken(name: "gpu", to: tokenFile)
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        worker = try PlinthProcess(
            [
                "worker", "--control", "http://127.0.0.1:\(cluster.port)", "--token-file", tokenFile, "--data",
                root + "/g", "--name", "node-g",
            ], environment: ["PATH": path])
        try waitUntil("node-g registered with 2 GPUs", timeout: 60) {
            let item = try cluster.call(.GET, "/v1/workers/node-g").json as? [String: Any]
            let gpus = (item?["capacity"] as? [String: Any])?["gpus"] as? [[String: Any]] ?? []
            return gpus.count == 2 && gpus.allSatisfy { $0["name"] as? String == "NVIDIA Fake T4" }
        }

        XCTAssertEqual(
            try cluster.call(
                .PUT, "/v1/instance-classes/gpu-fake",
                json: ["vcpus": 0.5, "memoryBytes": 512 << 20, "gpuCount": 1, "gpuKind": "nvidia"]
            ).status, 201)
        let developer = "Bearer " + (try cluster.tenantWithKey("acme", role: "developer"))
        try cluster.uploadModel(tenant: "acme", auth: developer, model: "m")
        let spec: [String: Any] = [
            "versions": [["model": "m", "version": "1"]], "instanceClass": "gpu-fake", "minReplicas": 3,
            "maxReplicas": 3,
        ]
        let put = try cluster.call(.PUT, "/v1/tenants/acme/deployments/llm", auth: developer, json: spec)
        XCTAssertEqual(put.status, 201, String(decoding: put.body, as: UTF8.self))

        // Two replicas run on node-g, one GPU each; serve's local node has no GPU.
        var assigned: [String: [Int]] = [:]
        try waitUntil("two ready GPU replicas on node-g", timeout: 90) {
            let item = try cluster.call(.GET, "/v1/workers/node-g").json as? [String: Any]
            let replicas = (item?["replicas"] as? [[String: Any]] ?? []).filter { $0["phase"] as? String == "ready" }
            assigned = Dictionary(
                replicas.compactMap { r in (r["id"] as? String).map { ($0, r["gpuIndices"] as? [Int] ?? []) } },
                uniquingKeysWith: { a, _ in a })
            return assigned.count == 2
        }
        XCTAssertEqual(assigned.values.map { $0 }.sorted { $0.first ?? -1 < $1.first ?? -1 }, [[0], [1]])

        // Each replica's own output says it was given exactly its GPU.
        try waitUntil("both replicas' logs", timeout: 10) {
            let logs = try cluster.call(.GET, "/v1/tenants/acme/deployments/llm/logs", auth: developer)
            let replicas = (logs.json as? [String: Any])?["replicas"] as? [[String: Any]] ?? []
            let withLines = replicas.filter { !($0["lines"] as? [String] ?? []).isEmpty }
            return withLines.count == 2
        }
        let logs = try cluster.call(.GET, "/v1/tenants/acme/deployments/llm/logs", auth: developer)
        let replicas = try XCTUnwrap((logs.json as? [String: Any])?["replicas"] as? [[String: Any]])
        XCTAssertEqual(Set(replicas.compactMap { $0["replica"] as? String }), Set(assigned.keys))
        for replica in replicas {
            let id = try XCTUnwrap(replica["replica"] as? String)
            let gpu = try XCTUnwrap(assigned[id]?.first)
            let text = (replica["lines"] as? [String] ?? []).joined(separator: "\n")
            XCTAssertTrue(text.contains("\"cuda_visible_devices\":\"\(gpu)\""), "\(id) on GPU \(gpu): \(text)")
            XCTAssertTrue(text.contains("\"nvidia_visible_devices\":\"\(gpu)\""), "\(id) on GPU \(gpu): \(text)")
        }

        // The third replica fits nowhere, and the deployment says why.
        let status = try cluster.call(.GET, "/v1/tenants/acme/deployments/llm/status", auth: developer)
        let text = String(decoding: status.body, as: UTF8.self)
        XCTAssertTrue(text.contains("Unschedulable: no worker has 1 GPU of kind nvidia free"), text)
        let conditions = (status.json as? [String: Any])?["conditions"] as? [[String: Any]] ?? []
        let progressing = conditions.first { $0["type"] as? String == "Progressing" }
        XCTAssertEqual(progressing?["reason"] as? String, "Unschedulable", text)
    }
}
