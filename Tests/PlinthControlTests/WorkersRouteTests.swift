import Foundation
import PlinthControl
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import Synchronization
import XCTest

/// Node tokens, the worker protocol routes and the control-plane side of scheduling, driven
/// through the router (no sockets).
final class WorkersRouteTests: XCTestCase {
    func makeHarness(missingAfter: Double = 30) throws -> ControlHarness {
        try ControlHarness {
            $0.workers = WorkerSettings(heartbeatIntervalSeconds: 1, missingAfterSeconds: missingAfter)
        }
    }

    func nodeToken(_ h: ControlHarness, name: String = "rack-1") throws -> String {
        let reply = h.expect(201, .POST, "/v1/workers/tokens", json: ["name": name])
        return try XCTUnwrap(reply.json["token"] as? String)
    }

    static func register(_ name: String, cpus: Int = 4, memoryGiB: UInt64 = 16) -> [String: Any] {
        let request = RegisterRequest(
            nodeName: name, agentVersion: "test",
            capacity: NodeCapacity(cpuMillicores: cpus * 1000, memoryBytes: memoryGiB << 30),
            isolation: .minimal(runsAsRoot: false))
        return (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(request))) as? [String: Any] ?? [:]
    }

    static func beat(_ id: String, sequence: Int = 1, replicas: [PlinthCore.ReplicaReport] = []) -> [String: Any] {
        let beat = Heartbeat(
            workerID: id, sequence: sequence, appliedGeneration: 0, replicas: replicas,
            usage: NodeUsage(memoryBytesUsed: 1, loadAverage1m: 0))
        return (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(beat))) as? [String: Any] ?? [:]
    }

    func desired(_ reply: ControlHarness.Reply) throws -> DesiredState {
        try JSONDecoder().decode(DesiredState.self, from: Data(reply.bytes))
    }

    /// A tenant with one uploaded version deployed with `minReplicas` replicas of `instanceClass`.
    func deployment(_ h: ControlHarness, replicas: Int, instanceClass: String = "cpu-small") {
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "fraud")
        h.upload(tenant: "acme", model: "fraud", version: "1")
        h.expect(
            201, .PUT, "/v1/tenants/acme/deployments/scorer",
            json: [
                "versions": [["model": "fraud", "version": "1"]], "instanceClass": instanceClass,
                "minReplicas": replicas, "maxReplicas": replicas,
            ])
    }

    func testNodeTokenIsShownOnceAndStoredOnlyAsItsHash() throws {
        let h = try makeHarness()
        let token = try nodeToken(h)
        XCTAssertTrue(token.hasPrefix("pln_"))
        // The id is hex; the secret (base64url) may itself contain '_'.
        let rest = token.dropFirst(4)
        let id = String(rest.prefix { $0 != "_" })
        let secret = String(rest.dropFirst(id.count + 1))
        let list = h.expect(200, .GET, "/v1/workers/tokens")
        XCTAssertTrue(list.text.contains(id))
        XCTAssertFalse(list.text.contains(secret))
        let stored = try h.plane.store.read { db in
            try db.queryOne("SELECT secret_sha256 FROM node_tokens WHERE id = ?", id)
        }
        XCTAssertEqual(try stored?.blob("secret_sha256"), SHA256.hash(secret))
    }

    func testWorkerRoutesRefuseEverythingButAValidNodeToken() throws {
        let h = try makeHarness()
        h.createTenant("acme")
        let apiKey = try h.createKey(tenant: "acme", role: "owner")
        let token = try nodeToken(h)
        let revoked = try nodeToken(h, name: "old")
        h.expect(204, .DELETE, "/v1/workers/tokens/\(revoked.dropFirst(4).prefix { $0 != "_" })")
        var xAPIKey = HTTPHeaders()
        xAPIKey.set("X-API-Key", apiKey)
        let refused: [(String, HTTPHeaders)] = [
            ("none", HTTPHeaders()), ("admin JWT", h.admin),
            ("admin Basic", ControlHarness.basic("admin", h.adminPassword)),
            ("API key", ControlHarness.bearer(apiKey)), ("X-API-Key", xAPIKey),
            ("revoked", ControlHarness.bearer(revoked)),
            ("wrong secret", ControlHarness.bearer(token + "x")), ("garbage", ControlHarness.bearer("pln_zz_top")),
        ]
        for (name, headers) in refused {
            XCTAssertEqual(
                h.send(.POST, "/v1/workers/register", headers: headers, json: Self.register("n1")).status, 401, name)
            XCTAssertEqual(
                h.send(.POST, "/v1/workers/w_x/heartbeat", headers: headers, json: Self.beat("w_x")).status, 401, name)
            XCTAssertEqual(
                h.send(.GET, "/v1/workers/artifacts/\(String(repeating: "a", count: 64))", headers: headers).status,
                401, name)
        }
        // A node token opens no tenant or admin route.
        for path in ["/v1/tenants", "/v1/workers", "/v1/workers/tokens", "/v1/auth/whoami", "/v1/tenants/acme/models"] {
            XCTAssertEqual(h.send(.GET, path, headers: ControlHarness.bearer(token)).status, 401, path)
        }
        XCTAssertEqual(
            h.send(.POST, "/v1/workers/register", headers: ControlHarness.bearer(token), json: Self.register("n1"))
                .status, 200)
        XCTAssertEqual(
            h.send(
                .POST, "/v1/workers/register", headers: ControlHarness.bearer(token), json: Self.register("Bad_Name")
            ).status, 422)
    }

    func testRegisterHeartbeatPlacesReplicasAcrossWorkersAndServesTheirArtifacts() throws {
        let h = try makeHarness()
        deployment(h, replicas: 2)
        let token = ControlHarness.bearer(try nodeToken(h))
        let a = try XCTUnwrap(
            h.expect(200, .POST, "/v1/workers/register", headers: token, json: Self.register("node-a")).json["workerID"]
                as? String)
        let b = try XCTUnwrap(
            h.expect(200, .POST, "/v1/workers/register", headers: token, json: Self.register("node-b")).json["workerID"]
                as? String)
        XCTAssertEqual(
            h.expect(200, .POST, "/v1/workers/register", headers: token, json: Self.register("node-a")).json["workerID"]
                as? String, a)
        let stateA = try desired(h.expect(200, .POST, "/v1/workers/\(a)/heartbeat", headers: token, json: Self.beat(a)))
        let stateB = try desired(h.expect(200, .POST, "/v1/workers/\(b)/heartbeat", headers: token, json: Self.beat(b)))
        XCTAssertEqual(stateA.replicas.count, 1, "two replicas spread over two workers")
        XCTAssertEqual(stateB.replicas.count, 1)
        XCTAssertNotEqual(stateA.replicas.first?.id, stateB.replicas.first?.id)
        let replica = try XCTUnwrap(stateA.replicas.first)
        XCTAssertEqual(replica.limits.cpuMillicores, 1000)
        XCTAssertEqual(replica.artifact?.sizeBytes, UInt64("model-bytes".utf8.count))
        XCTAssertEqual(replica.artifact?.fileName, "scorer.onnx")

        let artifact = h.expect(200, .GET, try XCTUnwrap(replica.artifact?.downloadPath), headers: token)
        XCTAssertEqual(artifact.status, 200)
        XCTAssertEqual(
            h.send(.GET, "/v1/workers/artifacts/\(String(repeating: "0", count: 64))", headers: token).status, 404)
        // Another token's workers have nothing placed: the artifact is not theirs.
        let other = ControlHarness.bearer(try nodeToken(h, name: "other"))
        XCTAssertEqual(h.send(.GET, replica.artifact?.downloadPath ?? "", headers: other).status, 404)
        XCTAssertEqual(h.send(.POST, "/v1/workers/\(a)/heartbeat", headers: other, json: Self.beat(a)).status, 403)
        XCTAssertEqual(
            h.send(.POST, "/v1/workers/w_unknown/heartbeat", headers: token, json: Self.beat("w_unknown")).status, 404)
        XCTAssertEqual(h.send(.POST, "/v1/workers/register", headers: other, json: Self.register("node-a")).status, 409)

        // Reports flow into the deployment status and the admin view.
        let ready = PlinthCore.ReplicaReport(
            id: replica.id, phase: .ready, endpoint: "unix:/tmp/r.sock", restarts: 2, condition: nil)
        let again = try desired(
            h.expect(
                200, .POST, "/v1/workers/\(a)/heartbeat", headers: token,
                json: Self.beat(a, sequence: 2, replicas: [ready])))
        XCTAssertEqual(again.generation, stateA.generation, "nothing changed, same generation")
        let endpoints = h.plane.readyReplicaEndpoints()
        XCTAssertEqual(endpoints.map(\.replica), [replica.id])
        XCTAssertEqual(endpoints.first?.endpoint, "unix:/tmp/r.sock")
        let status = h.expect(200, .GET, "/v1/tenants/acme/deployments/scorer/status")
        XCTAssertTrue(status.text.contains("\"readyReplicas\":1"), status.text)
        let worker = h.expect(200, .GET, "/v1/workers/node-a").json
        XCTAssertEqual(worker["state"] as? String, "ready")
        let replicas = try XCTUnwrap(worker["replicas"] as? [[String: Any]])
        XCTAssertEqual(replicas.first?["phase"] as? String, "ready")
        XCTAssertEqual(replicas.first?["restarts"] as? Int, 2)
        XCTAssertEqual((worker["capacity"] as? [String: Any])?["cpuMillicores"] as? Int, 4000)
        let list = h.expect(200, .GET, "/v1/workers").json
        XCTAssertEqual((list["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["node-a", "node-b"])
        XCTAssertEqual(
            h.send(.GET, "/v1/workers", headers: ControlHarness.bearer(try h.createKey(tenant: "acme", role: "owner")))
                .status, 403)
    }

    func testDataPlaneSecretIsIssuedPerRegistrationAndOnlyGoesToTheRegisteredForwarder() throws {
        let h = try makeHarness()
        deployment(h, replicas: 1)
        let token = ControlHarness.bearer(try nodeToken(h))
        var body = Self.register("node-a")
        body["dataEndpoint"] = "tcp://10.0.0.5:7001"
        XCTAssertEqual(h.send(.POST, "/v1/workers/register", headers: token, json: body).status, 422)
        body["dataEndpoint"] = "http://10.0.0.5:7001"
        let first = h.expect(200, .POST, "/v1/workers/register", headers: token, json: body).json
        let id = try XCTUnwrap(first["workerID"] as? String)
        let secret = try XCTUnwrap(first["dataSecret"] as? String)
        XCTAssertTrue(secret.hasPrefix("pld_") && secret.count == 68, secret)
        // Registering again (an agent restart) rotates it; a node without a forwarder gets none.
        let second = h.expect(200, .POST, "/v1/workers/register", headers: token, json: body).json
        let rotated = try XCTUnwrap(second["dataSecret"] as? String)
        XCTAssertNotEqual(rotated, secret)
        XCTAssertNil(
            h.expect(200, .POST, "/v1/workers/register", headers: token, json: Self.register("node-b")).json[
                "dataSecret"])

        let state = try desired(
            h.expect(200, .POST, "/v1/workers/\(id)/heartbeat", headers: token, json: Self.beat(id)))
        let replica = try XCTUnwrap(state.replicas.first)
        XCTAssertNotNil(replica.runtime, "the deployment's runtime settings travel with the replica")
        XCTAssertEqual(
            replica.runtime?.maxBatchSize,
            h.plane.routingSnapshot().deployment(tenant: "acme", name: "scorer")?.maxBatchSize)
        func report(_ endpoint: String, sequence: Int) throws -> [ReplicaEndpointRecord] {
            let ready = PlinthCore.ReplicaReport(
                id: replica.id, phase: .ready, endpoint: endpoint, restarts: 0, condition: nil)
            h.expect(
                200, .POST, "/v1/workers/\(id)/heartbeat", headers: token,
                json: Self.beat(id, sequence: sequence, replicas: [ready]))
            return h.plane.readyReplicaEndpoints()
        }
        let viaForwarder = try report("http://10.0.0.5:7001", sequence: 2)
        XCTAssertEqual(viaForwarder.map(\.endpoint), ["http://10.0.0.5:7001"])
        XCTAssertEqual(viaForwarder.first?.dataSecret, rotated)
        // Any other TCP endpoint is not routed: the secret never goes anywhere but the forwarder.
        XCTAssertEqual(try report("http://10.9.9.9:80", sequence: 3), [])
        let local = try report("unix:/tmp/r.sock", sequence: 4)
        XCTAssertEqual(local.map(\.endpoint), ["unix:/tmp/r.sock"])
        XCTAssertNil(local.first?.dataSecret)
        // A node reporting TCP endpoints that this control plane gave no secret (it restarted and
        // lost them) is sent to register again.
        let nodeB = try XCTUnwrap(h.expect(200, .GET, "/v1/workers/node-b").json["id"] as? String)
        let tcp = PlinthCore.ReplicaReport(
            id: "rx", phase: .ready, endpoint: "http://10.0.0.6:7001", restarts: 0, condition: nil)
        XCTAssertEqual(
            h.send(
                .POST, "/v1/workers/\(nodeB)/heartbeat", headers: token, json: Self.beat(nodeB, replicas: [tcp])
            ).status, 404)
        let view = h.expect(200, .GET, "/v1/workers/node-a")
        XCTAssertEqual(view.json["dataEndpoint"] as? String, "http://10.0.0.5:7001")
        XCTAssertFalse(view.text.contains("pld_"), "the secret is not shown")
    }

    func testReplicasOfAWorkerThatMissedHeartbeatsArePlacedElsewhere() throws {
        let h = try makeHarness(missingAfter: 2)
        deployment(h, replicas: 2)
        let start = Date()
        let a = try h.plane.registerWorker(
            try JSONDecoder().decode(
                RegisterRequest.self, from: JSONSerialization.data(withJSONObject: Self.register("node-a"))),
            tokenID: nil, now: start)
        let b = try h.plane.registerWorker(
            try JSONDecoder().decode(
                RegisterRequest.self, from: JSONSerialization.data(withJSONObject: Self.register("node-b"))),
            tokenID: nil, now: start)
        func beat(_ id: String, at time: Date) throws -> DesiredState {
            try h.heartbeat(id, now: time)
        }
        XCTAssertEqual(try beat(a.workerID, at: start).replicas.count, 1)
        XCTAssertEqual(try beat(b.workerID, at: start).replicas.count, 1)
        // b keeps beating, a falls silent past the grace period.
        let later = start.addingTimeInterval(5)
        let moved = try beat(b.workerID, at: later)
        XCTAssertEqual(moved.replicas.count, 2)
        XCTAssertEqual(h.plane.readyReplicaEndpoints(now: later), [])
        let status = h.expect(200, .GET, "/v1/tenants/acme/deployments/scorer/status")
        XCTAssertTrue(status.text.contains("Rescheduled"), status.text)
        // a comes back: it is told to run nothing (its replicas live on b now).
        XCTAssertEqual(try beat(a.workerID, at: later).replicas.count, 0)

        // Forgetting b moves its replicas to a; b's next heartbeat is refused as unknown.
        h.expect(204, .DELETE, "/v1/workers/node-b")
        XCTAssertEqual(try beat(a.workerID, at: later).replicas.count, 2)
        XCTAssertThrowsError(try beat(b.workerID, at: later))
        h.expect(404, .GET, "/v1/workers/node-b")
    }

    func testAnUnschedulableReplicaIsExplainedInTheDeploymentStatus() throws {
        let h = try makeHarness()
        deployment(h, replicas: 1, instanceClass: "cpu-large")
        let small = try h.plane.registerWorker(
            try JSONDecoder().decode(
                RegisterRequest.self, from: JSONSerialization.data(withJSONObject: Self.register("tiny", cpus: 2))),
            tokenID: nil)
        let state = try h.heartbeat(small.workerID)
        XCTAssertEqual(state.replicas, [])
        let status = h.expect(200, .GET, "/v1/tenants/acme/deployments/scorer/status").text
        XCTAssertTrue(status.contains("Unschedulable: no worker has 4 vCPU free"), status)
        let conditions =
            (try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])?["conditions"]
            as? [[String: Any]]
        let progressing = conditions?.first { $0["type"] as? String == "Progressing" }
        XCTAssertEqual(progressing?["reason"] as? String, "Unschedulable")
        XCTAssertEqual(progressing?["message"] as? String, "Unschedulable: no worker has 4 vCPU free")
        XCTAssertTrue(status.contains("\"Warning\""), status)
    }
    func testARolloutKeepsTheOldReplicaUntilItsReplacementIsReady() throws {
        let h = try makeHarness()
        deployment(h, replicas: 1)
        h.upload(tenant: "acme", model: "fraud", version: "2", bytes: Array("model-bytes-2".utf8))
        let node = try h.plane.registerWorker(
            try JSONDecoder().decode(
                RegisterRequest.self, from: JSONSerialization.data(withJSONObject: Self.register("node-a"))),
            tokenID: nil)
        func beat(_ reports: [PlinthCore.ReplicaReport]) throws -> [String] {
            try h.heartbeat(node.workerID, replicas: reports).replicas.map(\.id)
        }
        func ready(_ id: String) -> PlinthCore.ReplicaReport {
            PlinthCore.ReplicaReport(
                id: id, phase: .ready, endpoint: "unix:/tmp/\(id).sock", restarts: 0, condition: nil)
        }
        let old = try XCTUnwrap(try beat([]).first)
        XCTAssertEqual(try beat([ready(old)]), [old])

        h.expect(
            200, .PUT, "/v1/tenants/acme/deployments/scorer",
            json: [
                "versions": [["model": "fraud", "version": "2"]], "instanceClass": "cpu-small", "minReplicas": 1,
                "maxReplicas": 1,
            ])
        let both = try beat([ready(old)])
        XCTAssertEqual(both.count, 2, "the new replica starts next to the old one")
        let new = try XCTUnwrap(both.first { $0 != old })
        XCTAssertEqual(h.plane.readyReplicaEndpoints().map(\.replica), [old])
        XCTAssertEqual(h.plane.readyReplicaEndpoints().first?.retiring, true)
        XCTAssertEqual(
            try beat([
                ready(old),
                PlinthCore.ReplicaReport(id: new, phase: .starting, endpoint: nil, restarts: 0, condition: nil),
            ]).count, 2)
        // Once the new one is ready the old one leaves the desired set.
        XCTAssertEqual(try beat([ready(old), ready(new)]), [new])
        XCTAssertEqual(h.plane.readyReplicaEndpoints().map(\.replica), [new])
    }

    func testReplicaCensusAndColdStartsFollowHeartbeats() throws {
        let starts = ColdStartLog()
        let h = try ControlHarness {
            $0.workers = WorkerSettings(heartbeatIntervalSeconds: 1, missingAfterSeconds: 30)
            $0.replicaColdStartObserver = { starts.append($0) }
        }
        deployment(h, replicas: 2)
        let node = try h.plane.registerWorker(
            try JSONDecoder().decode(
                RegisterRequest.self, from: JSONSerialization.data(withJSONObject: Self.register("node-a"))),
            tokenID: nil)
        var sequence = 0
        func beat(_ reports: [PlinthCore.ReplicaReport]) throws -> [String] {
            sequence += 1
            return try h.heartbeat(node.workerID, replicas: reports, sequence: sequence).replicas.map(\.id).sorted()
        }
        func report(_ id: String, _ phase: ReplicaPhase, restarts: Int = 0, millis: Int? = nil)
            -> PlinthCore.ReplicaReport
        {
            PlinthCore.ReplicaReport(
                id: id, phase: phase, endpoint: phase == .ready ? "unix:/tmp/\(id).sock" : nil, restarts: restarts,
                condition: nil, startupMillis: millis)
        }
        func census() -> [String: Int] {
            Dictionary(
                h.plane.replicaCensus().filter { $0.deployment == "scorer" }.map { ($0.state, $0.count) },
                uniquingKeysWith: +)
        }
        let ids = try beat([])  // the first heartbeat is the baseline
        XCTAssertEqual(ids.count, 2)
        XCTAssertEqual(census(), ["pending": 2])
        _ = try beat([report(ids[0], .starting), report(ids[1], .starting)])
        XCTAssertEqual(census(), ["starting": 2])
        _ = try beat([report(ids[0], .ready, millis: 1500), report(ids[1], .starting)])
        XCTAssertEqual(census(), ["ready": 1, "starting": 1])
        XCTAssertEqual(starts.all.map(\.replica), [ids[0]])
        XCTAssertEqual(starts.all.first?.seconds ?? 0, 1.5, accuracy: 1e-9)
        XCTAssertEqual(starts.all.first?.tenant, "acme")
        XCTAssertEqual(starts.all.first?.deployment, "scorer")
        // Staying ready is not another cold start; a restarted process becoming ready is.
        _ = try beat([report(ids[0], .ready, millis: 1500), report(ids[1], .failed, restarts: 0)])
        XCTAssertEqual(census(), ["ready": 1, "failed": 1])
        _ = try beat([report(ids[0], .ready, millis: 1500), report(ids[1], .ready, restarts: 1, millis: 200)])
        XCTAssertEqual(starts.all.map(\.replica), [ids[0], ids[1]])
        XCTAssertEqual(census(), ["ready": 2])

        // After a re-registration (e.g. a control-plane restart) replicas already serving are the baseline.
        _ = try h.plane.registerWorker(
            try JSONDecoder().decode(
                RegisterRequest.self, from: JSONSerialization.data(withJSONObject: Self.register("node-a"))),
            tokenID: nil)
        sequence = 0
        _ = try beat([
            report(ids[0], .ready, restarts: 5, millis: 100), report(ids[1], .ready, restarts: 1, millis: 200),
        ])
        XCTAssertEqual(starts.all.count, 2)
    }
}

/// Cold starts the control plane reported, collected from its observer.
final class ColdStartLog: Sendable {
    private let entries = Mutex<[ReplicaColdStart]>([])
    func append(_ start: ReplicaColdStart) { entries.withLock { $0.append(start) } }
    var all: [ReplicaColdStart] { entries.withLock { $0 } }
}
