import Foundation
import PlinthHTTP
import PlinthTestSupport
import Synchronization
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The data plane across processes: `plinth serve` (control plane, gateway, local worker) plus two
/// `plinth worker` processes with their own data directories, all on this machine.
final class MultiWorkerTests: WorkerProcessTestCase {
    func testReplicasSpreadOverWorkersSurviveKillsAndMoveOffADeadWorker() throws {
        root = try TestSupport.temporaryDirectory("plmw").path
        let cluster = try PlinthCluster(
            dataDirectory: root + "/s", arguments: ["--heartbeat-interval", "1", "--worker-grace", "3"])
        defer { cluster.stop() }

        // Two remote workers with a node token from a 0600 file.
        let tokenFile = root + "/token"
        try cluster.writeWorkerToken(name: "e2e", to: tokenFile)
        for name in ["node-a", "node-b"] {
            workers[name] = try PlinthProcess([
                "worker", "--control", "http://127.0.0.1:\(cluster.port)", "--token-file", tokenFile,
                "--data", root + "/" + String(name.suffix(1)), "--name", name,
            ])
        }
        try waitUntil("three ready workers", timeout: 60) {
            let list = try cluster.call(.GET, "/v1/workers")
            let items = (list.json as? [String: Any])?["items"] as? [[String: Any]] ?? []
            return items.filter { $0["state"] as? String == "ready" }.count == 3
        }

        // One deployment of 3 replicas: one per worker (1 vCPU each; every node offers its CPUs).
        let invoker = try cluster.tenantWithKey("acme", role: "invoker")
        let developer = "Bearer " + (try cluster.key("acme", role: "developer"))
        try cluster.uploadModel(tenant: "acme", auth: developer, model: "churn")
        let spec: [String: Any] = [
            "versions": [["model": "churn", "version": "1"]], "instanceClass": "cpu-small", "minReplicas": 3,
            "maxReplicas": 3,
        ]
        XCTAssertEqual(
            try cluster.call(.PUT, "/v1/tenants/acme/deployments/scorer", auth: developer, json: spec).status, 201)
        try waitUntil("3 ready replicas on 3 workers", timeout: 90) {
            let placed = try self.readyReplicasByWorker(cluster)
            return placed.values.reduce(0, +) == 3 && placed.count == 3
        }
        for _ in 0..<30 { XCTAssertEqual(try infer(cluster, invoker), 200) }

        // kill -9 one remote replica process under load: each request succeeds, after at most one retry.
        let load = Load()
        let threads = startLoad(cluster, invoker, load)
        usleep(500_000)
        let victim = try XCTUnwrap(try replicaIDs(cluster, worker: "node-a").first)
        let killed = Self.processes(matching: victim).filter { Self.argv($0).dropFirst().first == "runtime" }
        XCTAssertFalse(killed.isEmpty, "runtime process of \(victim) not found")
        for pid in killed { kill(pid, SIGKILL) }
        try waitUntil("the killed replica restarted", timeout: 30) {
            let workers = try cluster.call(.GET, "/v1/workers/node-a").json as? [String: Any]
            let replicas = workers?["replicas"] as? [[String: Any]] ?? []
            return replicas.contains {
                $0["id"] as? String == victim && $0["phase"] as? String == "ready" && ($0["restarts"] as? Int ?? 0) >= 1
            }
        }
        usleep(500_000)
        load.stop.store(true, ordering: .relaxed)
        threads.wait()
        let result = load.result.withLock { $0 }
        XCTAssertGreaterThan(result.succeeded, 20)
        XCTAssertEqual(result.failedTwice, [], "requests that failed even after one retry")
        print("multi-worker: \(result.succeeded) requests, \(result.retried) retried, during a replica kill -9")

        // Roll out version 2 under load: the old replicas serve until the new ones are ready.
        let bytes = Array(
            try Data(contentsOf: URL(fileURLWithPath: PlinthCluster.vectorsDirectory + "/logreg_30.onnx")))
        XCTAssertEqual(
            try cluster.call(.PUT, "/v1/tenants/acme/models/churn/versions/2/artifact", auth: developer, body: bytes)
                .status, 201)
        let rollout = Load()
        let rolloutThreads = startLoad(cluster, invoker, rollout)
        usleep(300_000)
        var v2 = spec
        v2["versions"] = [["model": "churn", "version": "2"]]
        XCTAssertEqual(
            try cluster.call(.PUT, "/v1/tenants/acme/deployments/scorer", auth: developer, json: v2).status, 200)
        try waitUntil("3 ready replicas of version 2", timeout: 60) {
            let items =
                (try cluster.call(.GET, "/v1/workers").json as? [String: Any])?["items"] as? [[String: Any]] ?? []
            let replicas = items.flatMap { $0["replicas"] as? [[String: Any]] ?? [] }
            return replicas.count == 3
                && replicas.allSatisfy { $0["version"] as? String == "2" && $0["phase"] as? String == "ready" }
        }
        usleep(300_000)
        rollout.stop.store(true, ordering: .relaxed)
        rolloutThreads.wait()
        let rolled = rollout.result.withLock { $0 }
        XCTAssertGreaterThan(rolled.succeeded, 20)
        XCTAssertEqual(rolled.failedTwice, [], "requests that failed even after one retry during the rollout")
        print("multi-worker rollout: \(rolled.succeeded) requests, \(rolled.retried) retried")

        // kill -9 a whole worker: after the grace period its replica is placed on the others.
        workers["node-b"]?.signal(SIGKILL)
        _ = workers["node-b"]?.waitForExit(timeout: 10)
        try waitUntil("node-b's replica re-placed and ready", timeout: 60) {
            let placed = try self.readyReplicasByWorker(cluster)
            return placed["node-b"] == nil && placed.values.reduce(0, +) == 3
        }
        let nodeB = try cluster.call(.GET, "/v1/workers/node-b").json as? [String: Any]
        XCTAssertEqual(nodeB?["state"] as? String, "missing")
        for _ in 0..<20 { XCTAssertEqual(try infer(cluster, invoker), 200) }
        let status = try cluster.call(.GET, "/v1/tenants/acme/deployments/scorer/status")
        XCTAssertTrue(String(decoding: status.body, as: UTF8.self).contains("Rescheduled"))
    }

    func testWorkerTakesItsTokenOnlyFromAPrivateFileOrTheEnvironment() throws {
        root = try TestSupport.temporaryDirectory("plmw").path
        let file = root + "/token"
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: file, contents: Data("pln_0011223344556677_x".utf8), attributes: [.posixPermissions: 0o644]))
        let open = try PlinthProcess.run([
            "worker", "--control", "http://127.0.0.1:1", "--token-file", file, "--data", root + "/w",
        ])
        XCTAssertEqual(open.status, 1)
        XCTAssertTrue(open.stderr.contains("readable by others"), open.stderr)
        let none = try PlinthProcess.run(
            ["worker", "--control", "http://127.0.0.1:1", "--data", root + "/w"], environment: ["PLINTH_NODE_TOKEN": ""]
        )
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("node token is required"), none.stderr)
        let flag = try PlinthProcess.run(["worker", "--control", "http://127.0.0.1:1", "--token", "pln_x"])
        XCTAssertEqual(flag.status, 2, "there is no flag that takes the token itself")
    }

    // MARK: Helpers

    func infer(_ cluster: PlinthCluster, _ key: String) throws -> Int {
        try cluster.call(.POST, "/v2/models/scorer/infer", auth: "Bearer " + key, body: PlinthCluster.logregRequest())
            .status
    }

    /// Ready replicas per worker name, from the admin view.
    func readyReplicasByWorker(_ cluster: PlinthCluster) throws -> [String: Int] {
        let list = try cluster.call(.GET, "/v1/workers")
        var out: [String: Int] = [:]
        for item in (list.json as? [String: Any])?["items"] as? [[String: Any]] ?? []
        where item["state"] as? String == "ready" {
            let ready = (item["replicas"] as? [[String: Any]] ?? []).filter { $0["phase"] as? String == "ready" }.count
            if ready > 0 { out[item["name"] as? String ?? ""] = ready }
        }
        return out
    }

    func replicaIDs(_ cluster: PlinthCluster, worker: String) throws -> [String] {
        let item = try cluster.call(.GET, "/v1/workers/\(worker)").json as? [String: Any]
        return (item?["replicas"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    final class Load: Sendable {
        struct Result {
            var succeeded = 0
            var retried = 0
            var failedTwice: [String] = []
        }
        let stop = Atomic<Bool>(false)
        let result = Mutex(Result())
    }

    /// Four threads calling the deployment; a failed call is retried once.
    func startLoad(_ cluster: PlinthCluster, _ key: String, _ load: Load) -> DispatchGroup {
        let group = DispatchGroup()
        let endpoint = cluster.endpoint
        for _ in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let client = HTTPClient()
                func once() -> String? {
                    let request = HTTPClientRequest(
                        method: .POST, path: "/v2/models/scorer/infer",
                        headers: ["Authorization": "Bearer " + key, "Content-Type": "application/json"],
                        body: PlinthCluster.logregRequest())
                    do {
                        let response = try client.send(request, to: endpoint)
                        return response.status == 200
                            ? nil
                            : "status \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))"
                    } catch {
                        return "\(error)"
                    }
                }
                while !load.stop.load(ordering: .relaxed) {
                    if let first = once() {
                        if let second = once() {
                            load.result.withLock { $0.failedTwice.append(first + " / " + second) }
                        } else {
                            load.result.withLock {
                                $0.retried += 1
                                $0.succeeded += 1
                            }
                        }
                    } else {
                        load.result.withLock { $0.succeeded += 1 }
                    }
                }
            }
        }
        return group
    }

    static func argv(_ pid: pid_t) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Processes whose command line mentions `text`.
    static func processes(matching text: String) -> [pid_t] {
        let own = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { $0 != own && argv($0).contains { $0.contains(text) } }
    }
}
