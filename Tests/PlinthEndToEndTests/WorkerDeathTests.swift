import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A `plinth worker` killed with SIGKILL takes its replicas with it (they hold its lifeline), and
/// the worker started again on the same data directory runs each replica exactly once.
final class WorkerDeathTests: WorkerProcessTestCase {
    func startWorker(_ cluster: PlinthCluster, tokenFile: String) throws -> PlinthProcess {
        try PlinthProcess([
            "worker", "--control", "http://127.0.0.1:\(cluster.port)", "--token-file", tokenFile, "--data",
            root + "/w", "--name", "node-w",
        ])
    }

    /// Replica ids node-w reports ready.
    func readyOnWorker(_ cluster: PlinthCluster) throws -> [String] {
        let item = try cluster.call(.GET, "/v1/workers/node-w").json as? [String: Any]
        return (item?["replicas"] as? [[String: Any]] ?? []).filter { $0["phase"] as? String == "ready" }
            .compactMap { $0["id"] as? String }
    }

    func testReplicasDieWithAKilledWorkerAndRunOnceAfterItsRestart() throws {
        root = try TestSupport.temporaryDirectory("plwd").path
        // A long grace: the control plane keeps the replica on node-w while it restarts.
        let cluster = try PlinthCluster(
            dataDirectory: root + "/s", arguments: ["--heartbeat-interval", "1", "--worker-grace", "60"])
        defer { cluster.stop() }
        let tokenFile = root + "/token"
        try cluster.writeWorkerToken(name: "e2e", to: tokenFile)
        worker = try startWorker(cluster, tokenFile: tokenFile)

        let developer = "Bearer " + (try cluster.tenantWithKey("acme", role: "developer"))
        try cluster.uploadModel(tenant: "acme", auth: developer, model: "m")
        // Two replicas spread over the two nodes (serve's local worker and node-w).
        let spec: [String: Any] = [
            "versions": [["model": "m", "version": "1"]], "instanceClass": "cpu-small", "minReplicas": 2,
            "maxReplicas": 2,
        ]
        XCTAssertEqual(
            try cluster.call(.PUT, "/v1/tenants/acme/deployments/d", auth: developer, json: spec).status, 201)
        try waitUntil("a ready replica on node-w", timeout: 90) { try self.readyOnWorker(cluster).count == 1 }
        let replicaProcesses = root + "/w/replicas/"
        XCTAssertGreaterThanOrEqual(MultiWorkerTests.processes(matching: replicaProcesses).count, 2)

        worker?.signal(SIGKILL)
        _ = worker?.waitForExit(timeout: 10)
        try waitUntil("node-w's replica processes gone", timeout: 3) {
            MultiWorkerTests.processes(matching: replicaProcesses).isEmpty
        }

        worker = try startWorker(cluster, tokenFile: tokenFile)
        try waitUntil("node-w's replica ready again", timeout: 90) { try self.readyOnWorker(cluster).count == 1 }
        usleep(1_000_000)  // a duplicate would have had time to start
        let runtimes = MultiWorkerTests.processes(matching: replicaProcesses).filter {
            MultiWorkerTests.argv($0).dropFirst().first == "runtime"
        }
        XCTAssertEqual(runtimes.count, 1, "exactly one runtime for node-w's one replica")
        let launchers = Set(
            MultiWorkerTests.processes(matching: replicaProcesses).compactMap { pid -> String? in
                let argv = MultiWorkerTests.argv(pid)
                return argv.dropFirst().first == "sandbox-exec" ? argv.last : nil
            })
        XCTAssertEqual(launchers.count, 1, "one launcher spec in use: \(launchers)")
    }
}
