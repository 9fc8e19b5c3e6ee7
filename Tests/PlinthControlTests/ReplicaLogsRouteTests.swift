import Foundation
import PlinthControl
import PlinthCore
import XCTest

/// `GET .../deployments/{d}/logs`: the output tails workers report in heartbeats, bounded,
/// filtered and tenant-scoped.
final class ReplicaLogsRouteTests: XCTestCase {
    func testLogsShowEachReplicasReportedTailBoundedAndFiltered() throws {
        let h = try ControlHarness { $0.workers = WorkerSettings(heartbeatIntervalSeconds: 1, missingAfterSeconds: 30) }
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "fraud")
        h.upload(tenant: "acme", model: "fraud", version: "1")
        h.expect(
            201, .PUT, "/v1/tenants/acme/deployments/scorer",
            json: [
                "versions": [["model": "fraud", "version": "1"]], "instanceClass": "cpu-small", "minReplicas": 2,
                "maxReplicas": 2,
            ])
        let node = try h.plane.registerWorker(
            RegisterRequest(
                nodeName: "node-a", agentVersion: "test",
                capacity: NodeCapacity(cpuMillicores: 8000, memoryBytes: 32 << 30),
                isolation: .minimal(runsAsRoot: false)),
            tokenID: nil)
        func beat(_ reports: [PlinthCore.ReplicaReport]) throws -> [String] {
            try h.heartbeat(node.workerID, replicas: reports).replicas.map(\.id).sorted()
        }
        let ids = try beat([])
        XCTAssertEqual(ids.count, 2)
        // A worker that ignores the bounds is trimmed: 80 lines, one of 5000 bytes.
        let chatty = (0..<80).map { "line \($0)" } + [String(repeating: "é", count: 2500)]
        _ = try beat([
            PlinthCore.ReplicaReport(
                id: ids[0], phase: .ready, endpoint: "unix:/tmp/a.sock", restarts: 1, condition: nil, logTail: chatty),
            PlinthCore.ReplicaReport(
                id: ids[1], phase: .starting, endpoint: nil, restarts: 0, condition: nil, logTail: ["loading"]),
        ])

        let all = h.expect(200, .GET, "/v1/tenants/acme/deployments/scorer/logs").json
        let replicas = try XCTUnwrap(all["replicas"] as? [[String: Any]])
        XCTAssertEqual(replicas.compactMap { $0["replica"] as? String }, ids)
        let first = try XCTUnwrap(replicas.first?["lines"] as? [String])
        XCTAssertEqual(first.count, ReplicaReport.maxLogLines)
        XCTAssertEqual(first.first, "line 31")
        XCTAssertEqual(first.last?.utf8.count, ReplicaReport.maxLogLineBytes, "cut on a character boundary")
        XCTAssertEqual(replicas.first?["worker"] as? String, "node-a")
        XCTAssertEqual(replicas.first?["restarts"] as? Int, 1)
        XCTAssertEqual(replicas.last?["lines"] as? [String], ["loading"])
        XCTAssertEqual(replicas.last?["phase"] as? String, "starting")

        let two = h.expect(200, .GET, "/v1/tenants/acme/deployments/scorer/logs", query: "lines=2&replica=\(ids[0])")
        let only = try XCTUnwrap(two.json["replicas"] as? [[String: Any]])
        XCTAssertEqual(only.count, 1)
        XCTAssertEqual((only.first?["lines"] as? [String])?.first, "line 79")
        XCTAssertEqual((only.first?["lines"] as? [String])?.count, 2)
        let capped = h.expect(200, .GET, "/v1/tenants/acme/deployments/scorer/logs", query: "lines=100000")
        XCTAssertEqual(
            ((capped.json["replicas"] as? [[String: Any]])?.first?["lines"] as? [String])?.count,
            ReplicaReport.maxLogLines)
        for bad in ["lines=0", "lines=-3", "lines=ten", "lines="] {
            let reply = h.expect(400, .GET, "/v1/tenants/acme/deployments/scorer/logs", query: bad)
            XCTAssertTrue(reply.text.contains("lines must be a positive integer"), reply.text)
        }
        h.expect(404, .GET, "/v1/tenants/acme/deployments/scorer/logs", query: "replica=r-nope")
        h.expect(404, .GET, "/v1/tenants/acme/deployments/nothere/logs")

        // Another tenant's credential sees nothing of acme's, not even that the deployment exists.
        h.createTenant("globex")
        let other = ControlHarness.bearer(try h.createKey(tenant: "globex", role: "owner"))
        XCTAssertEqual(h.send(.GET, "/v1/tenants/acme/deployments/scorer/logs", headers: other).status, 404)
        let invoker = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "invoker"))
        XCTAssertEqual(h.send(.GET, "/v1/tenants/acme/deployments/scorer/logs", headers: invoker).status, 403)
    }
}
