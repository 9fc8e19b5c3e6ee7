import Foundation
import PlinthControl
import PlinthCore
import PlinthHTTP
import XCTest

final class DeploymentTests: XCTestCase {
    private func fixture() throws -> ControlHarness {
        let h = try ControlHarness()
        h.createTenant("acme", quotas: ["maxReplicas": 10, "maxGPUReplicas": 2])
        h.createModel(tenant: "acme", name: "m")
        for v in ["1", "2", "3"] { h.upload(tenant: "acme", model: "m", version: v, bytes: Array("v\(v)".utf8)) }
        return h
    }

    private func spec(_ changes: [String: Any] = [:]) -> [String: Any] {
        var spec: [String: Any] = [
            "versions": [["model": "m", "version": "1", "weight": 90], ["model": "m", "version": "2", "weight": 10]],
            "shadow": ["model": "m", "version": "3"], "instanceClass": "cpu-small", "minReplicas": 2,
            "maxReplicas": 4, "batching": ["maxBatchSize": 8, "maxQueueDelayMicros": 2000],
            "requestTimeoutMillis": 5000, "maxPayloadBytes": 1 << 20, "autoscaling": ["targetConcurrency": 3],
        ]
        for (k, v) in changes { spec[k] = v }
        return spec
    }

    func testInvalidSpecsAre422NamingTheField() throws {
        let h = try fixture()
        let cases: [(String, [String: Any])] = [
            ("versions", ["versions": [Any]()]),
            ("versions[0].model", ["versions": [["model": "Bad_Name", "version": "1"]]]),
            ("versions[1]", ["versions": [["model": "m", "version": "1"], ["model": "m", "version": "1"]]]),
            ("versions[0].weight", ["versions": [["model": "m", "version": "1", "weight": -1]]]),
            ("versions", ["versions": [["model": "m", "version": "1", "weight": 0]]]),
            ("versions[0]", ["versions": [["model": "m", "version": "9"]]]),
            ("shadow", ["shadow": ["model": "m", "version": "1"]]),
            ("shadow", ["shadow": ["model": "m", "version": "404"]]),
            ("instanceClass", ["instanceClass": "huge"]),
            ("minReplicas", ["minReplicas": -1]),
            ("maxReplicas", ["maxReplicas": 1, "minReplicas": 2]),
            ("maxReplicas", ["maxReplicas": 11]),
            ("maxReplicas", ["instanceClass": "gpu-1x", "maxReplicas": 3]),
            ("batching.maxBatchSize", ["batching": ["maxBatchSize": 0]]),
            ("batching.maxQueueDelayMicros", ["batching": ["maxQueueDelayMicros": -5]]),
            ("requestTimeoutMillis", ["requestTimeoutMillis": 0]),
            ("maxPayloadBytes", ["maxPayloadBytes": 0]),
            ("autoscaling.targetConcurrency", ["autoscaling": ["targetConcurrency": 0]]),
            ("maxReplica", ["maxReplica": 3]),
            ("batching.maxBatch", ["batching": ["maxBatch": 3]]),
            ("versions[0].wieght", ["versions": [["model": "m", "version": "1", "wieght": 3]]]),
            ("minReplicas", ["minReplicas": "two"]),
            ("versions[0].weight", ["versions": [["model": "m", "version": "1", "weight": "heavy"]]]),
            ("versions[0].version", ["versions": [["model": "m"]]]),
            ("shadow.percent", ["shadow": ["model": "m", "version": "3", "percent": 150]]),
            ("shadow.percent", ["shadow": ["model": "m", "version": "3", "percent": -1]]),
            ("shadow.percent", ["shadow": ["model": "m", "version": "3", "percent": "half"]]),
            ("shadow.share", ["shadow": ["model": "m", "version": "3", "share": 5]]),
            ("payloadLogging.sampleRate", ["payloadLogging": ["sampleRate": 1.5]]),
            ("payloadLogging.sampleRate", ["payloadLogging": ["sampleRate": -0.1]]),
            ("payloadLogging.sampleRate", ["payloadLogging": ["retentionHours": 5]]),
            ("payloadLogging.retentionHours", ["payloadLogging": ["sampleRate": 0.5, "retentionHours": 0]]),
            ("payloadLogging.maxMegabytes", ["payloadLogging": ["sampleRate": 0.5, "maxMegabytes": 0]]),
            ("payloadLogging.rate", ["payloadLogging": ["rate": 0.5]]),
        ]
        for (field, change) in cases {
            let reply = h.send(.PUT, "/v1/tenants/acme/deployments/d", headers: h.admin, json: spec(change))
            XCTAssertEqual(reply.status, 422, "\(field): \(reply.text)")
            XCTAssertEqual(reply.json["field"] as? String, field, reply.text)
        }
        XCTAssertEqual(
            h.expect(422, .PUT, "/v1/tenants/acme/deployments/d", json: ["instanceClass": "cpu-small"]).json["field"]
                as? String, "versions")
        h.expect(400, .PUT, "/v1/tenants/acme/deployments/d", body: Array("[1,2]".utf8))
        h.expect(422, .PUT, "/v1/tenants/acme/deployments/Bad_Name", json: spec())
        h.expect(404, .GET, "/v1/tenants/acme/deployments/d")
    }

    func testEachChangeIsARevisionAndRollbackRestoresAnOldSpec() throws {
        let h = try fixture()
        let created = h.expect(201, .PUT, "/v1/tenants/acme/deployments/d", json: spec())
        XCTAssertEqual(created.json["revision"] as? Int, 1)
        // The same spec again changes nothing.
        XCTAssertEqual(h.expect(200, .PUT, "/v1/tenants/acme/deployments/d", json: spec()).json["revision"] as? Int, 1)
        let canary = spec(["versions": [["model": "m", "version": "2", "weight": 100]], "shadow": NSNull()])
        XCTAssertEqual(h.expect(200, .PUT, "/v1/tenants/acme/deployments/d", json: canary).json["revision"] as? Int, 2)
        let revisions =
            h.expect(200, .GET, "/v1/tenants/acme/deployments/d/revisions").json["items"] as? [[String: Any]]
        XCTAssertEqual(revisions?.compactMap { $0["revision"] as? Int }, [2, 1])
        let rolled = h.expect(200, .POST, "/v1/tenants/acme/deployments/d/rollback", query: "to=1")
        XCTAssertEqual(rolled.json["revision"] as? Int, 3)
        let specNow = rolled.json["spec"] as? [String: Any]
        XCTAssertEqual((specNow?["versions"] as? [[String: Any]])?.count, 2)
        XCTAssertEqual((specNow?["shadow"] as? [String: Any])?["version"] as? String, "3")
        h.expect(404, .POST, "/v1/tenants/acme/deployments/d/rollback", query: "to=99")
        h.expect(400, .POST, "/v1/tenants/acme/deployments/d/rollback")
        let third = h.expect(200, .GET, "/v1/tenants/acme/deployments/d/revisions", query: "limit=1").json
        XCTAssertEqual(((third["items"] as? [[String: Any]])?.first)?["cause"] as? String, "rollback to 1")
        XCTAssertNotNil(third["nextCursor"])
    }

    func testStatusShowsDesiredAndReadyReplicasPerVersionAndEvents() throws {
        let h = try fixture()
        h.expect(201, .PUT, "/v1/tenants/acme/deployments/d", json: spec())
        var status = h.expect(200, .GET, "/v1/tenants/acme/deployments/d/status").json
        var versions = status["versions"] as? [[String: Any]] ?? []
        XCTAssertEqual(versions.compactMap { $0["desiredReplicas"] as? Int }, [2, 1, 1])
        XCTAssertEqual(versions.compactMap { $0["readyReplicas"] as? Int }, [0, 0, 0])
        XCTAssertEqual(versions.compactMap { $0["shadow"] as? Bool }, [false, false, true])
        XCTAssertEqual(((status["events"] as? [[String: Any]])?.first)?["reason"] as? String, "RevisionCreated")
        // What a worker reports once a replica is up; a late report for a deleted deployment is dropped.
        try h.plane.recordReplicaReports(
            [
                ReplicaStatusRecord(
                    tenant: "acme", deployment: "d", replica: "r1", model: "m", version: "1", state: "ready", reason: nil),
                ReplicaStatusRecord(
                    tenant: "acme", deployment: "gone", replica: "r1", model: "m", version: "1", state: "ready",
                    reason: nil),
            ], worker: "node-a")
        XCTAssertEqual(
            try h.plane.store.read { db in try db.query("SELECT * FROM replica_status WHERE deployment = 'gone'") }.count, 0)
        status = h.expect(200, .GET, "/v1/tenants/acme/deployments/d/status").json
        versions = status["versions"] as? [[String: Any]] ?? []
        XCTAssertEqual(versions.first?["readyReplicas"] as? Int, 1)
        let available = (status["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == "Available" }
        XCTAssertEqual(available?["status"] as? Bool, true)
        XCTAssertEqual(((status["events"] as? [[String: Any]])?.first)?["reason"] as? String, "ReplicaReady")
    }

    func testRoutingSnapshotCarriesDeploymentsAndGrowsItsVersionOnChange() throws {
        let h = try fixture()
        let before = h.plane.routingSnapshot()
        XCTAssertEqual(h.plane.routingSnapshot().version, before.version)  // unchanged: cached
        h.expect(201, .PUT, "/v1/tenants/acme/deployments/d", json: spec())
        let after = h.plane.routingSnapshot()
        XCTAssertGreaterThan(after.version, before.version)
        let deployment = try XCTUnwrap(after.deployment(tenant: "acme", name: "d"))
        XCTAssertEqual(deployment.versions.map(\.version), ["1", "2"])
        XCTAssertEqual(deployment.versions.map(\.weight), [90, 10])
        XCTAssertEqual(deployment.shadow?.version, "3")
        XCTAssertEqual(deployment.maxBatchSize, 8)
        XCTAssertEqual(deployment.maxQueueDelayMicros, 2000)
        XCTAssertEqual(deployment.targetConcurrency, 3)
        XCTAssertEqual(deployment.requestTimeoutMillis, 5000)
        XCTAssertEqual(deployment.instanceClass, "cpu-small")
        XCTAssertTrue(FileManager.default.fileExists(atPath: deployment.versions[0].artifactPath))
        XCTAssertEqual(deployment.versions[0].format, "onnx")
        XCTAssertEqual(after.tenants["acme"]?.suspended, false)
    }

    func testShadowPercentAndPayloadLoggingAreRevisionedAndReachTheSnapshot() throws {
        let h = try fixture()
        h.expect(201, .PUT, "/v1/tenants/acme/deployments/d", json: spec())
        var deployment = try XCTUnwrap(h.plane.routingSnapshot().deployment(tenant: "acme", name: "d"))
        XCTAssertNil(deployment.payloadLogging, "off by default")
        XCTAssertEqual(deployment.shadowPercent, 100)
        let changed = h.expect(
            200, .PUT, "/v1/tenants/acme/deployments/d",
            json: spec([
                "shadow": ["model": "m", "version": "3", "percent": 12.5],
                "payloadLogging": ["sampleRate": 0.25, "maxMegabytes": 10],
            ]))
        XCTAssertEqual(changed.json["revision"] as? Int, 2)
        let stored = changed.json["spec"] as? [String: Any]
        XCTAssertEqual((stored?["payloadLogging"] as? [String: Any])?["retentionHours"] as? Int, 168, "default written out")
        deployment = try XCTUnwrap(h.plane.routingSnapshot().deployment(tenant: "acme", name: "d"))
        XCTAssertEqual(deployment.shadowPercent, 12.5)
        XCTAssertEqual(
            deployment.payloadLogging, PayloadLoggingPolicy(sampleRate: 0.25, retentionHours: 168, maxBytes: 10 << 20))
        // Rolling back restores the old settings as a new revision.
        h.expect(200, .POST, "/v1/tenants/acme/deployments/d/rollback", query: "to=1")
        XCTAssertNil(h.plane.routingSnapshot().deployment(tenant: "acme", name: "d")?.payloadLogging)
    }

    func testPayloadRecordsAreReadNewestFirstAndOnlyByTheirTenant() throws {
        let h = try fixture()
        h.createTenant("globex")
        h.expect(201, .PUT, "/v1/tenants/acme/deployments/d", json: spec())
        let folder = h.directory + "/payloads/acme/d"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let older = (1...3).map { #"{"request_id":"a\#($0)","status":200}"# }.joined(separator: "\n") + "\n"
        // The newer file ends with a record torn by a crash: skipped.
        let newer = #"{"request_id":"b1","status":200}"# + "\n" + #"{"request_id":"b2","sta"#
        try older.write(toFile: folder + "/0001700000000000000.jsonl", atomically: true, encoding: .utf8)
        try newer.write(toFile: folder + "/0001700000001000000.jsonl", atomically: true, encoding: .utf8)
        let all = h.expect(200, .GET, "/v1/tenants/acme/deployments/d/payloads").json["items"] as? [[String: Any]]
        XCTAssertEqual(all?.compactMap { $0["request_id"] as? String }, ["b1", "a3", "a2", "a1"])
        let two = h.expect(200, .GET, "/v1/tenants/acme/deployments/d/payloads", query: "limit=2")
        XCTAssertEqual((two.json["items"] as? [[String: Any]])?.compactMap { $0["request_id"] as? String }, ["b1", "a3"])
        h.expect(400, .GET, "/v1/tenants/acme/deployments/d/payloads", query: "limit=0")
        h.expect(400, .GET, "/v1/tenants/acme/deployments/d/payloads", query: "limit=1000")
        h.expect(404, .GET, "/v1/tenants/acme/deployments/nope/payloads")
        // Another tenant's member sees nothing, not even that the deployment exists.
        let foreign = try h.createKey(tenant: "globex", role: "owner")
        h.expect(404, .GET, "/v1/tenants/acme/deployments/d/payloads", headers: ControlHarness.bearer(foreign))
        h.expect(404, .GET, "/v1/tenants/globex/deployments/d/payloads", headers: ControlHarness.bearer(foreign))
        // A viewer may read the deployment, not its callers' data.
        let viewer = try h.createKey(tenant: "acme", role: "viewer")
        h.expect(403, .GET, "/v1/tenants/acme/deployments/d/payloads", headers: ControlHarness.bearer(viewer))
    }

    func testInstanceClassesAreSeededAndAdminManaged() throws {
        let h = try fixture()
        let viewer = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "viewer"))
        let names = (h.expect(200, .GET, "/v1/instance-classes", headers: viewer).json["items"] as? [[String: Any]])?
            .compactMap { $0["name"] as? String }
        XCTAssertEqual(names, ["cpu-large", "cpu-small", "gpu-1x"])
        let gpu = h.expect(200, .GET, "/v1/instance-classes/gpu-1x", headers: viewer).json
        XCTAssertEqual(gpu["gpuCount"] as? Int, 1)
        h.expect(
            201, .PUT, "/v1/instance-classes/gpu-4x",
            json: ["vcpus": 32, "memoryBytes": 1 << 36, "gpuCount": 4, "gpuKind": "h100", "pricePerSecond": 0.002])
        h.expect(
            200, .PUT, "/v1/instance-classes/gpu-4x",
            json: ["vcpus": 32, "memoryBytes": 1 << 36, "gpuCount": 4, "pricePerSecond": 0.003])
        h.expect(422, .PUT, "/v1/instance-classes/bad", json: ["vcpus": 0, "memoryBytes": 1])
        h.expect(201, .PUT, "/v1/tenants/acme/deployments/d", json: spec())
        h.expect(409, .DELETE, "/v1/instance-classes/cpu-small")
        h.expect(204, .DELETE, "/v1/instance-classes/gpu-4x")
        h.expect(404, .DELETE, "/v1/instance-classes/gpu-4x")
    }

    func testDeletingATenantRemovesEverythingItOwns() throws {
        let h = try fixture()
        h.expect(201, .PUT, "/v1/tenants/acme/deployments/d", json: spec())
        let key = try h.createKey(tenant: "acme", role: "owner")
        h.createUser(tenant: "acme", username: "eve", password: "eve-password", role: "owner")
        let blobs = h.directory + "/blobs/sha256"
        XCTAssertFalse(try FileManager.default.subpathsOfDirectory(atPath: blobs).filter { $0.count > 3 }.isEmpty)
        h.expect(204, .DELETE, "/v1/tenants/acme")
        XCTAssertEqual(try FileManager.default.subpathsOfDirectory(atPath: blobs).filter { $0.count > 3 }, [])
        h.expect(401, .GET, "/v1/auth/whoami", headers: ControlHarness.bearer(key))
        h.expect(401, .GET, "/v1/auth/whoami", headers: ControlHarness.basic("eve", "eve-password"))
        h.expect(404, .GET, "/v1/tenants/acme")
        let snapshot = h.plane.routingSnapshot()
        XCTAssertNil(snapshot.tenants["acme"])
        XCTAssertNil(snapshot.deployments["acme"])
        for table in ["models", "model_versions", "deployments", "deployment_revisions", "api_keys", "users"] {
            let n = try h.plane.store.read { db in
                try db.queryOne(
                    "SELECT COUNT(*) AS n FROM \(table) WHERE \(table == "users" ? "tenant" : "tenant") = 'acme'")?.int(
                        "n")
            }
            XCTAssertEqual(n, 0, table)
        }
    }
}
