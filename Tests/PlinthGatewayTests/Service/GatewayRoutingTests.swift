import Foundation
import PlinthHTTP
import XCTest

@testable import PlinthGateway

final class GatewayRoutingTests: XCTestCase {
    var harness: GatewayHarness!

    override func setUpWithError() throws {
        harness = try GatewayHarness()
    }

    override func tearDown() {
        harness.stop()
    }

    func testWeightedSplitFollowsWeights() throws {
        let v1 = try harness.runtime("split-v1")
        let v2 = try harness.runtime("split-v2")
        harness.deploy("split", versions: [("v1", 75, [v1]), ("v2", 25, [v2])])
        var counts: [String: Int] = [:]
        for _ in 0..<400 {
            let response = harness.post("/v2/models/split/infer")
            XCTAssertEqual(response.status, 200)
            counts[response.headers["Plinth-Model-Version"] ?? "?", default: 0] += 1
        }
        XCTAssertEqual(counts.values.reduce(0, +), 400)
        // Expected 100 for v2; a binomial(400, 0.25) is within ±50 with overwhelming probability.
        XCTAssertTrue((50...150).contains(counts["v2"] ?? 0), "\(counts)")
        XCTAssertEqual(v1.servedCount, counts["v1"])
        XCTAssertEqual(v2.servedCount, counts["v2"])
    }

    func testRoutingKeyIsSticky() throws {
        let v1 = try harness.runtime("sticky-v1")
        let v2 = try harness.runtime("sticky-v2")
        harness.deploy("sticky", versions: [("v1", 50, [v1]), ("v2", 50, [v2])])
        var seen = Set<String>()
        for user in 0..<20 {
            var versions = Set<String>()
            for _ in 0..<5 {
                let response = harness.post(
                    "/v2/models/sticky/infer", headers: [("Plinth-Routing-Key", "user-\(user)")])
                versions.insert(response.headers["Plinth-Model-Version"] ?? "?")
            }
            XCTAssertEqual(versions.count, 1, "user-\(user) moved between versions: \(versions)")
            seen.formUnion(versions)
        }
        XCTAssertEqual(seen, ["v1", "v2"], "20 keys should land on both versions")
    }

    func testExplicitVersionPathBypassesSplit() throws {
        let v1 = try harness.runtime("explicit-v1")
        let v2 = try harness.runtime("explicit-v2")
        harness.deploy("explicit", versions: [("v1", 100, [v1]), ("v2", 0, [v2])])
        let response = harness.post("/v2/models/explicit/versions/v2/infer")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Plinth-Model-Version"], "v2")
        XCTAssertEqual(v2.servedCount, 1)
        XCTAssertEqual(harness.post("/v2/models/explicit/versions/v9/infer").status, 404)
    }

    func testForwardedRequestIsRebuiltWithAllowedHeadersAndRewrittenPath() throws {
        let runtime = try harness.runtime("rebuild")
        harness.deploy("rebuild", versions: [("v3", 100, [runtime])])
        let response = harness.post(
            "/v2/models/rebuild/infer",
            headers: [
                ("Cookie", "session=1"), ("X-Forwarded-For", "1.2.3.4"), ("Accept", "application/json"),
                ("Transfer-Encoding", "chunked"), ("X-Request-Id", "req-abc-123"),
            ])
        XCTAssertEqual(response.status, 200)
        // The stand-in's own headers are not passed back; ask it directly via a second hop-free check.
        XCTAssertNil(response.headers["X-Seen-Headers"], "runtime-internal headers must not reach the caller")
        XCTAssertEqual(response.headers["Plinth-Model-Version"], "v3")
        XCTAssertEqual(response.headers["X-Request-Id"], "req-abc-123")

        // What the runtime saw: forward once more straight through the gateway's client.
        var request = HTTPRequest(
            method: .POST, path: "/v2/models/rebuild/infer",
            headers: [
                "Content-Type": "application/json", "Authorization": "Bearer secret", "Cookie": "c=1", "Accept": "*/*",
            ], body: Array("{}".utf8))
        request.requestID = "rid-1"
        var version = VersionRoute(version: "3", weight: 1, replicas: [], modelName: "other")
        version.modelName = "model v/3"
        let forwarded = ForwardedRequest.make(from: request, version: version, body: request.body)
        XCTAssertEqual(forwarded.path, "/v2/models/model%20v%2F3/infer")
        let seen = try HTTPClient().send(forwarded, to: runtime.endpoint)
        XCTAssertEqual(seen.headers["X-Seen-Headers"]?.contains("authorization"), false)
        XCTAssertEqual(seen.headers["X-Seen-Headers"]?.contains("cookie"), false)
        XCTAssertEqual(seen.headers["X-Seen-Headers"]?.contains("accept"), true)
        XCTAssertEqual(seen.headers["X-Seen-Headers"]?.contains("x-request-id"), true)
        XCTAssertEqual(seen.headers["X-Seen-Path"], "/v2/models/model%20v%2F3/infer")
    }

    func testNewGenerationMovesTrafficToTheNewReplicas() throws {
        let old = try harness.runtime("gen-old")
        let new = try harness.runtime("gen-new")
        harness.deploy("gen", versions: [("v1", 1, [old])]) { $0.generation = 1 }
        XCTAssertEqual(harness.post("/v2/models/gen/infer").status, 200)
        harness.deploy("gen", versions: [("v2", 1, [new])]) { $0.generation = 2 }
        for _ in 0..<3 {
            XCTAssertEqual(harness.post("/v2/models/gen/infer").headers["Plinth-Model-Version"], "v2")
        }
        XCTAssertEqual(old.servedCount, 1)
        XCTAssertEqual(new.servedCount, 3)
    }

    func testDeadReplicaIsEjectedAndRequestRetriedOnAnother() throws {
        let live = try harness.runtime("live")
        let dead = ReplicaEndpoint(
            id: "dead", endpoint: .unix(path: "/tmp/pgw-no-such-\(UUID().uuidString.prefix(8)).sock"), ready: true)
        harness.directory.setRoute(
            tenantID: "ten-a",
            DeploymentRoute(
                name: "failover",
                versions: [VersionRoute(version: "v1", weight: 1, replicas: [dead, live.replica()], modelName: "m")]))
        for _ in 0..<10 {
            XCTAssertEqual(harness.post("/v2/models/failover/infer").status, 200)
        }
        XCTAssertEqual(live.servedCount, 10)
        XCTAssertTrue(
            harness.registry.render().contains("plinth_gateway_replica_ejections_total 1"), harness.registry.render())
    }

    func testOnlyDeadReplicasAnswer502AndNotReadyAnswer503() throws {
        let dead = ReplicaEndpoint(
            id: "dead", endpoint: .unix(path: "/tmp/pgw-none-\(UUID().uuidString.prefix(8)).sock"), ready: true)
        harness.directory.setRoute(
            tenantID: "ten-a",
            DeploymentRoute(
                name: "dead", versions: [VersionRoute(version: "v1", weight: 1, replicas: [dead], modelName: "m")]))
        XCTAssertEqual(harness.post("/v2/models/dead/infer").status, 502)
        var notReady = dead
        notReady.ready = false
        harness.directory.setRoute(
            tenantID: "ten-a",
            DeploymentRoute(
                name: "cold", versions: [VersionRoute(version: "v1", weight: 1, replicas: [notReady], modelName: "m")]))
        let response = harness.post("/v2/models/cold/infer")
        XCTAssertEqual(response.status, 503)
        XCTAssertNotNil(response.headers["Retry-After"])
        XCTAssertEqual(harness.get("/v2/models/cold/ready").status, 503)
    }

    func testConnectionClosedByRuntimeAnswers502WithoutRetry() throws {
        let closing = try ClosingListener()
        harness.onCleanup { closing.stop() }
        harness.directory.setRoute(
            tenantID: "ten-a",
            DeploymentRoute(
                name: "closing",
                versions: [
                    VersionRoute(
                        version: "v1", weight: 1,
                        replicas: [ReplicaEndpoint(id: "c", endpoint: closing.endpoint, ready: true)], modelName: "m")
                ]))
        XCTAssertEqual(harness.post("/v2/models/closing/infer").status, 502)
    }

    func testRuntimeErrorPassesThroughWithVersion() throws {
        let failing = try harness.runtime("failing", .failing)
        harness.deploy("failing", versions: [("v1", 100, [failing])])
        let response = harness.post("/v2/models/failing/infer")
        XCTAssertEqual(response.status, 500)
        XCTAssertTrue(response.text.contains("model exploded"))
        XCTAssertEqual(response.headers["Plinth-Model-Version"], "v1")
    }

    func testServerAndModelMetadata() throws {
        let runtime = try harness.runtime("meta")
        harness.deploy("meta", versions: [("v1", 10, [runtime]), ("v2", 90, [runtime])])
        let server = harness.get("/v2", key: nil)
        XCTAssertEqual(server.status, 200)
        XCTAssertTrue(server.text.contains(#""extensions":["binary_tensor_data""#), server.text)
        XCTAssertTrue(server.text.contains(#""version":"9.9.9""#))

        let model = harness.get("/v2/models/meta")
        XCTAssertEqual(model.status, 200, model.text)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(model.bytes)) as? [String: Any])
        XCTAssertEqual(object["name"] as? String, "meta")
        XCTAssertEqual(object["versions"] as? [String], ["v1", "v2"])
        XCTAssertEqual(model.headers["Plinth-Model-Version"], "v2")
        let versioned = harness.get("/v2/models/meta/versions/v1")
        XCTAssertEqual(versioned.headers["Plinth-Model-Version"], "v1")
        XCTAssertEqual(harness.get("/v2/models/meta/ready").status, 200)
        XCTAssertEqual(harness.get("/v2/models/meta/versions/v1/ready").status, 200)
        XCTAssertEqual(harness.get("/v2/models/meta/versions/nope/ready").status, 404)
        XCTAssertEqual(harness.get("/v2/models/meta", key: nil).status, 401)
    }

    func testMetricsAreServedToLoopbackOnlyByDefault() throws {
        let runtime = try harness.runtime("metrics")
        harness.deploy("metrics", versions: [("v1", 100, [runtime])])
        XCTAssertEqual(harness.post("/v2/models/metrics/infer").status, 200)
        var local = HTTPRequest(method: .GET, path: "/metrics")
        local.remoteAddress = "127.0.0.1:5555"
        let page = harness.router.handle(local)
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(
            page.text.contains(
                #"plinth_gateway_requests_total{tenant="acme",deployment="metrics",version="v1",status="200"} 1"#),
            page.text)
        XCTAssertTrue(
            page.text.contains(
                #"plinth_gateway_request_duration_seconds_bucket{tenant="acme",deployment="metrics",phase="compute""#))
        var remote = HTTPRequest(method: .GET, path: "/metrics")
        remote.remoteAddress = "10.1.2.3:5555"
        XCTAssertEqual(harness.router.handle(remote).status, 404)
    }
}
