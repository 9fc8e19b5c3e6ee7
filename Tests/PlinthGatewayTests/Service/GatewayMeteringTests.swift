import Foundation
import PlinthCore
import PlinthHTTP
import PlinthTestSupport
import XCTest

@testable import PlinthGateway

final class GatewayMeteringTests: XCTestCase {
    var harness: GatewayHarness!

    override func setUpWithError() throws {
        harness = try GatewayHarness {
            $0.shadowQueueCapacity = 2
            $0.shadowWorkers = 1
        }
    }

    override func tearDown() {
        harness.stop()
    }

    func testEveryRoutedRequestIsMeteredExactlyOnce() throws {
        let runtime = try harness.runtime("meter")
        let failing = try harness.runtime("meter-fail", .failing)
        harness.deploy("meter", versions: [("v1", 100, [runtime])]) { $0.maxPayloadBytes = 1000 }
        harness.deploy("broken", versions: [("v7", 100, [failing])])
        var limited = GatewayHarness.tenantA
        limited.keyID = "cdcd0008"
        limited.keyRequestsPerSecond = 0.01
        harness.directory.addKey(id: "cdcd0008", secret: "s", limited)

        let body = Array(#"{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1]}]}"#.utf8)
        var expected: [Int] = []
        for _ in 0..<3 { expected.append(harness.post("/v2/models/meter/infer", body: body).status) }
        expected.append(harness.post("/v2/models/meter/infer", body: [UInt8](repeating: 32, count: 2000)).status)
        expected.append(harness.post("/v2/models/meter/infer", key: "plk_cdcd0008_s").status)
        expected.append(harness.post("/v2/models/meter/infer", key: "plk_cdcd0008_s").status)
        expected.append(harness.post("/v2/models/broken/infer").status)
        // Not metered: nobody to bill (bad key) or nothing to bill to (unknown deployment).
        XCTAssertEqual(harness.post("/v2/models/meter/infer", key: "plk_aaaa0001_wrong").status, 401)
        XCTAssertEqual(harness.post("/v2/models/ghost/infer").status, 404)
        XCTAssertEqual(expected, [200, 200, 200, 413, 200, 429, 500])

        let events = try harness.usageEvents()
        XCTAssertEqual(events.map(\.status), expected)
        XCTAssertEqual(Set(events.map(\.requestID)).count, events.count, "one event per request id")
        let first = events[0]
        XCTAssertEqual(first.tenantID, "ten-a")
        XCTAssertEqual(first.apiKeyID, "aaaa0001")
        XCTAssertEqual(first.deployment, "meter")
        XCTAssertEqual(first.version, "v1")
        XCTAssertEqual(first.computeMicros, 7)
        XCTAssertGreaterThanOrEqual(first.queueMicros, 3)
        // The event counts the request's own rows; the runtime's merged batch (2) is a metric.
        XCTAssertEqual(first.batchSize, 1)
        let page = harness.gateway.metrics.render()
        XCTAssertTrue(
            page.contains(#"plinth_gateway_batch_size_bucket{tenant="acme",deployment="meter",le="2"} 4"#), page)
        XCTAssertTrue(
            page.contains(#"plinth_gateway_batch_size_bucket{tenant="acme",deployment="meter",le="1"} 0"#), page)
        XCTAssertEqual(first.bytesIn, Int64(body.count))
        XCTAssertEqual(first.bytesOut, Int64(body.count))
        XCTAssertFalse(first.shadow)
        XCTAssertGreaterThan(first.latencyMicros, 0)
        XCTAssertEqual(events[4].apiKeyID, "cdcd0008")
        XCTAssertEqual(events[6].version, "v7")
    }

    func testConcurrentRequestsThroughTheServerAreEachMeteredOnce() throws {
        let first = try harness.runtime("conc-1")
        let second = try harness.runtime("conc-2")
        harness.deploy("conc", versions: [("v1", 1, [first, second])]) {
            $0.maxConcurrency = 4
            $0.maxQueue = 64
        }
        let server = try TestHTTPServer(router: harness.router)
        defer { server.stop() }
        let client = HTTPClient()
        let statuses = StatusBox()
        let endpoint = server.endpoint
        let threads = (0..<8).map { _ in
            Thread {
                for _ in 0..<25 {
                    var headers = HTTPHeaders()
                    headers.add("Authorization", "Bearer " + GatewayHarness.keyA)
                    headers.add("Content-Type", "application/json")
                    let request = HTTPClientRequest(
                        method: .POST, path: "/v2/models/conc/infer", headers: headers, body: Array("{}".utf8))
                    statuses.add((try? client.send(request, to: endpoint).status) ?? -1)
                }
            }
        }
        threads.forEach { $0.start() }
        XCTAssertTrue(eventually(timeout: 60) { statuses.values.count == 200 })
        XCTAssertEqual(statuses.values.filter { $0 == 200 }.count, 200, "\(Set(statuses.values))")
        XCTAssertEqual(first.servedCount + second.servedCount, 200)
        XCTAssertGreaterThan(first.servedCount, 0)
        XCTAssertGreaterThan(second.servedCount, 0)
        let events = try harness.usageEvents()
        XCTAssertEqual(events.count, 200)
        XCTAssertEqual(Set(events.map(\.requestID)).count, 200)
    }

    func testBinaryTensorBodyPassesThroughByteExact() throws {
        let runtime = try harness.runtime("binary")
        harness.deploy("binary", versions: [("v1", 100, [runtime])])
        let server = try TestHTTPServer(router: harness.router)
        defer { server.stop() }
        let header = Array(
            #"{"inputs":[{"name":"x","shape":[1,256],"datatype":"UINT8","parameters":{"binary_data_size":256}}]}"#.utf8)
        let tensor = (0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let body = header + tensor
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer " + GatewayHarness.keyA)
        headers.add("Content-Type", "application/octet-stream")
        headers.add("Inference-Header-Content-Length", String(header.count))
        let response = try HTTPClient().send(
            HTTPClientRequest(method: .POST, path: "/v2/models/binary/infer", headers: headers, body: body),
            to: server.endpoint)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, body)
        XCTAssertEqual(response.headers["Inference-Header-Content-Length"], String(header.count))
        XCTAssertEqual(response.headers["Content-Type"], "application/octet-stream")
        XCTAssertEqual(response.headers["Plinth-Model-Version"], "v1")
    }

    func testShadowNeverAffectsTheCaller() throws {
        let primary = try harness.runtime("primary")
        let slowShadow = try harness.runtime("shadow-slow", .slow(.milliseconds(500)))
        harness.deploy(
            "mirrored", versions: [("v1", 100, [primary])],
            shadow: VersionRoute(version: "v2", weight: 0, replicas: [slowShadow.replica()], modelName: "m2"))
        let started = Date()
        for _ in 0..<6 {
            let response = harness.post("/v2/models/mirrored/infer")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.headers["Plinth-Model-Version"], "v1")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "the caller never waits for the shadow")
        // One worker, queue of 2: of 6 quick requests at least 3 copies are dropped, none fail the caller.
        XCTAssertGreaterThanOrEqual(harness.gateway.metrics.shadowCount("dropped"), 3)
        XCTAssertTrue(
            eventually {
                harness.gateway.metrics.shadowCount("agree") + harness.gateway.metrics.shadowCount("dropped") == 6
            })
        let events = try harness.usageEvents()
        XCTAssertEqual(events.filter { !$0.shadow }.count, 6)
        XCTAssertEqual(events.filter(\.shadow).count, Int(harness.gateway.metrics.shadowCount("agree")))
        XCTAssertTrue(events.filter(\.shadow).allSatisfy { $0.version == "v2" && $0.status == 200 })
    }

    func testShadowDisagreementAndFailureAreCounted() throws {
        let primary = try harness.runtime("primary2")
        let failing = try harness.runtime("shadow-fail", .failing)
        harness.deploy(
            "disagree", versions: [("v1", 100, [primary])],
            shadow: VersionRoute(version: "v2", weight: 0, replicas: [failing.replica()], modelName: "m2"))
        XCTAssertEqual(harness.post("/v2/models/disagree/infer").status, 200)
        XCTAssertTrue(eventually { harness.gateway.metrics.shadowCount("disagree") == 1 })

        let dead = ReplicaEndpoint(
            id: "dead-shadow", endpoint: .unix(path: "/tmp/pgw-nope-\(UUID().uuidString.prefix(8)).sock"), ready: true)
        harness.deploy(
            "deadshadow", versions: [("v1", 100, [primary])],
            shadow: VersionRoute(version: "v2", weight: 0, replicas: [dead], modelName: "m2"))
        XCTAssertEqual(harness.post("/v2/models/deadshadow/infer").status, 200)
        XCTAssertTrue(eventually { harness.gateway.metrics.shadowCount("failed") == 1 })
    }
}
