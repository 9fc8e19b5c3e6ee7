import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Workers with `--data-listen`: the gateway reaches their replicas over TCP through each
/// worker's authenticated forwarder, never through their Unix sockets. Real processes: a
/// `plinth serve` and two `plinth worker`s, each with its own data directory.
final class RemoteDataPlaneTests: WorkerProcessTestCase {
    func testGatewayServesRemoteReplicasOverTCPThroughAuthenticatedForwarders() throws {
        root = try TestSupport.temporaryDirectory("plrd").path
        let cluster = try PlinthCluster(dataDirectory: root + "/s", arguments: ["--heartbeat-interval", "1"])
        defer { cluster.stop() }
        let tokenFile = root + "/token"
        try cluster.writeWorkerToken(name: "tcp", to: tokenFile)
        for (name, extra) in [("node-a", [String]()), ("node-b", ["--cpus", "1", "--memory", "3Gi"])] {
            workers[name] = try PlinthProcess(
                [
                    "worker", "--control", "http://127.0.0.1:\(cluster.port)", "--token-file", tokenFile,
                    "--data", root + "/" + String(name.suffix(1)), "--name", name, "--data-listen", "127.0.0.1:0",
                ] + extra)
        }
        var forwarders: [String: Int] = [:]
        try waitUntil("two workers with data endpoints", timeout: 60) {
            for item in try self.workerItems(cluster) {
                if let name = item["name"] as? String, let url = item["dataEndpoint"] as? String,
                    item["state"] as? String == "ready", let port = Int(url.split(separator: ":").last ?? "")
                {
                    forwarders[name] = port
                }
            }
            return forwarders.count == 2
        }
        // --cpus / --memory: the node offers only that share.
        let nodeB = try XCTUnwrap(try workerItems(cluster).first { $0["name"] as? String == "node-b" })
        let capacity = nodeB["capacity"] as? [String: Any]
        XCTAssertEqual(capacity?["cpuMillicores"] as? Int, 1000)
        XCTAssertEqual(capacity?["memoryBytes"] as? Int, 3 << 30)

        // One replica per worker (the local one of `plinth serve` and the two remote ones), with
        // batching settings that must reach the remote runtimes too.
        let invoker = try cluster.tenantWithKey("acme", role: "invoker")
        let developer = "Bearer " + (try cluster.key("acme", role: "developer"))
        try cluster.uploadModel(tenant: "acme", auth: developer, model: "churn")
        let spec: [String: Any] = [
            "versions": [["model": "churn", "version": "1"]], "instanceClass": "cpu-small", "minReplicas": 3,
            "maxReplicas": 3, "batching": ["maxBatchSize": 5, "maxQueueDelayMicros": 1500],
        ]
        let put = try cluster.call(.PUT, "/v1/tenants/acme/deployments/scorer", auth: developer, json: spec)
        XCTAssertEqual(put.status, 201, String(decoding: put.body, as: UTF8.self))
        try waitUntil("3 ready replicas on 3 workers", timeout: 90) {
            let ready = try self.workerItems(cluster).filter {
                ($0["replicas"] as? [[String: Any]] ?? []).contains { $0["phase"] as? String == "ready" }
            }
            return ready.count == 3
        }

        // Remote replicas are reported at their worker's forwarder, the local one at its socket.
        var remoteReplicas: [String: String] = [:]
        for item in try workerItems(cluster) {
            let name = item["name"] as? String ?? ""
            for replica in item["replicas"] as? [[String: Any]] ?? [] {
                let endpoint = replica["endpoint"] as? String ?? ""
                if let port = forwarders[name] {
                    XCTAssertEqual(endpoint, "http://127.0.0.1:\(port)", "replica on \(name)")
                    remoteReplicas[name] = replica["id"] as? String
                } else {
                    XCTAssertTrue(endpoint.hasPrefix("unix:"), "local replica: \(endpoint)")
                }
            }
        }
        XCTAssertEqual(remoteReplicas.count, 2)

        for _ in 0..<30 {
            let r = try cluster.call(
                .POST, "/v2/models/scorer/infer", auth: "Bearer " + invoker, body: PlinthCluster.logregRequest())
            XCTAssertEqual(r.status, 200, String(decoding: r.body, as: UTF8.self))
        }
        // Binary tensor extension: the same answer as JSON, from every replica, remote ones included.
        let json = try cluster.call(
            .POST, "/v2/models/scorer/infer", auth: "Bearer " + invoker, body: PlinthCluster.logregRequest())
        let expected = try XCTUnwrap((json.json as? [String: Any])?["outputs"] as? [[String: Any]])
        let floats = (0..<30).map { Float(String(format: "%.3f", Double($0 % 30) * 0.1 - 1.0))! }
        let raw = floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let header = Array(
            #"{"inputs":[{"name":"X","shape":[1,30],"datatype":"FP32","parameters":{"binary_data_size":120}}]}"#.utf8)
        for _ in 0..<9 {
            let r = try cluster.call(
                .POST, "/v2/models/scorer/infer", auth: "Bearer " + invoker, body: header + raw,
                headers: [
                    "Inference-Header-Content-Length": String(header.count), "Content-Type": "application/octet-stream",
                ])
            XCTAssertEqual(r.status, 200, String(decoding: r.body, as: UTF8.self))
            let outputs = try XCTUnwrap((r.json as? [String: Any])?["outputs"] as? [[String: Any]])
            XCTAssertEqual(
                try JSONSerialization.data(withJSONObject: outputs, options: .sortedKeys),
                try JSONSerialization.data(withJSONObject: expected, options: .sortedKeys))
        }

        // Each remote worker's forwarder relayed a share (least-outstanding picks spread them).
        // Traffic goes on while waiting: a replica ejected by an early refusal gets its share once
        // it is readmitted (seen once: one forwarder still at 0 after the 40 requests above).
        try waitUntil("forwarder counters in heartbeats", timeout: 30) {
            _ = try cluster.call(
                .POST, "/v2/models/scorer/infer", auth: "Bearer " + invoker, body: PlinthCluster.logregRequest())
            return try self.workerItems(cluster).filter {
                (($0["dataPlane"] as? [String: Any])?["forwarded"] as? Int ?? 0) > 0
            }.count == 2
        }

        // The remote runtimes got the deployment's batching settings.
        for (node, id) in remoteReplicas {
            let runtimes = MultiWorkerTests.processes(matching: id).map(MultiWorkerTests.argv).filter {
                $0.dropFirst().first == "runtime"
            }
            let argv = try XCTUnwrap(runtimes.first, "runtime of \(id) on \(node)")
            XCTAssertEqual(Self.flag(argv, "--max-batch"), "5", "\(argv)")
            XCTAssertEqual(Self.flag(argv, "--max-delay-us"), "1500", "\(argv)")
            XCTAssertEqual(Self.flag(argv, "--name"), "scorer", "\(argv)")
        }

        // The forwarder itself: without the data-plane secret → 401, nothing reaches a replica.
        let portA = try XCTUnwrap(forwarders["node-a"])
        // Counters arrive with heartbeats (1 s): the baseline is taken once the requests above
        // are all counted, i.e. two reads 2.5 s apart agree.
        var before = try forwardedCount(cluster, "node-a")
        try waitUntil("node-a's forwarded count settled", timeout: 20) {
            usleep(2_500_000)
            let now = try self.forwardedCount(cluster, "node-a")
            defer { before = now }
            return now == before
        }
        for auth in [nil, "Bearer " + invoker, "Bearer pld_wrong"] as [String?] {
            var headers: HTTPHeaders = [
                "Content-Type": "application/json", "Plinth-Replica": remoteReplicas["node-a"]!,
            ]
            if let auth { headers.set("Authorization", auth) }
            let r = try HTTPClient().send(
                HTTPClientRequest(
                    method: .POST, path: "/v2/models/scorer/infer", headers: headers,
                    body: PlinthCluster.logregRequest()),
                to: .tcp(host: "127.0.0.1", port: portA))
            XCTAssertEqual(r.status, 401)
        }
        try waitUntil("refusals counted", timeout: 10) {
            let item = try self.workerItems(cluster).first { $0["name"] as? String == "node-a" }
            return ((item?["dataPlane"] as? [String: Any])?["unauthorized"] as? Int ?? 0) >= 3
        }
        XCTAssertEqual(try forwardedCount(cluster, "node-a"), before, "a refused request reached no replica")
        // The secret never appears in the API or the logs.
        let listing = String(decoding: try cluster.call(.GET, "/v1/workers").body, as: UTF8.self)
        XCTAssertFalse(listing.contains("pld_"))
        for process in workers.values { XCTAssertFalse(process.stderrText.contains("pld_")) }
        XCTAssertFalse(cluster.server.stderrText.contains("pld_"))
    }

    // MARK: Helpers

    func workerItems(_ cluster: PlinthCluster) throws -> [[String: Any]] {
        (try cluster.call(.GET, "/v1/workers").json as? [String: Any])?["items"] as? [[String: Any]] ?? []
    }

    func forwardedCount(_ cluster: PlinthCluster, _ node: String) throws -> Int {
        let item = try workerItems(cluster).first { $0["name"] as? String == node }
        return (item?["dataPlane"] as? [String: Any])?["forwarded"] as? Int ?? 0
    }

    static func flag(_ argv: [String], _ name: String) -> String? {
        guard let i = argv.firstIndex(of: name), i + 1 < argv.count else { return nil }
        return argv[i + 1]
    }
}
