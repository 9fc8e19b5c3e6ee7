import Foundation
import PlinthHTTP
import XCTest

@testable import PlinthGateway

final class GatewayLimitsTests: XCTestCase {
    var harness: GatewayHarness!

    override func setUpWithError() throws {
        harness = try GatewayHarness()
    }

    override func tearDown() {
        harness.stop()
    }

    func testSlowRuntimeAnswers504AtTheRequestTimeout() throws {
        let slow = try harness.runtime("slow", .slow(.seconds(4)))
        harness.deploy("slow", versions: [("v1", 100, [slow])]) { $0.requestTimeout = .milliseconds(300) }
        let started = Date()
        let response = harness.post("/v2/models/slow/infer")
        XCTAssertEqual(response.status, 504, response.text)
        XCTAssertLessThan(
            Date().timeIntervalSince(started), 3.5, "answered at the timeout, not when the model finished")
    }

    func testOversizedPayloadAnswers413WithoutReachingTheRuntime() throws {
        let runtime = try harness.runtime("small")
        harness.deploy("small", versions: [("v1", 100, [runtime])]) { $0.maxPayloadBytes = 100 }
        XCTAssertEqual(harness.post("/v2/models/small/infer", body: [UInt8](repeating: 0x20, count: 101)).status, 413)
        // A Content-Length claiming more than the limit is refused on the header alone (only
        // expressible through `Router.handle`: a real client sends the true length).
        if harness.server == nil {
            XCTAssertEqual(
                harness.post("/v2/models/small/infer", body: [0x7B, 0x7D], headers: [("Content-Length", "5000")])
                    .status, 413)
        }
        XCTAssertEqual(harness.post("/v2/models/small/infer", body: [UInt8](repeating: 0x20, count: 100)).status, 200)
        XCTAssertEqual(runtime.servedCount, 1)
    }

    func testBadInferenceHeaderLengthAnswers400() throws {
        let runtime = try harness.runtime("ihcl")
        harness.deploy("ihcl", versions: [("v1", 100, [runtime])])
        for bad in ["-1", "abc", "999"] {
            let response = harness.post(
                "/v2/models/ihcl/infer", body: Array("{}".utf8), headers: [("Inference-Header-Content-Length", bad)])
            XCTAssertEqual(response.status, 400, bad)
        }
        XCTAssertEqual(runtime.servedCount, 0)
    }

    func testFullQueueAnswers503WithRetryAfter() throws {
        let slow = try harness.runtime("busy", .slow(.seconds(1)))
        harness.deploy("busy", versions: [("v1", 100, [slow])]) {
            $0.maxConcurrency = 1
            $0.maxQueue = 0
        }
        let harness = self.harness!
        let first = Thread { _ = harness.post("/v2/models/busy/infer") }
        first.start()
        XCTAssertTrue(eventually { slow.activeCount == 1 })
        let response = harness.post("/v2/models/busy/infer")
        XCTAssertEqual(response.status, 503, response.text)
        XCTAssertNotNil(response.headers["Retry-After"])
        XCTAssertEqual(slow.servedCount, 1)
        XCTAssertTrue(eventually { slow.activeCount == 0 })
    }

    func testQueuedRequestRunsWhenASlotFrees() throws {
        let slow = try harness.runtime("queue", .slow(.milliseconds(300)))
        harness.deploy("queue", versions: [("v1", 100, [slow])]) {
            $0.maxConcurrency = 1
            $0.maxQueue = 4
        }
        let harness = self.harness!
        let statuses = StatusBox()
        let threads = (0..<3).map { _ in Thread { statuses.add(harness.post("/v2/models/queue/infer").status) } }
        threads.forEach { $0.start() }
        XCTAssertTrue(eventually { statuses.values.count == 3 })
        XCTAssertEqual(statuses.values, [200, 200, 200])
        let events = try harness.usageEvents()
        XCTAssertTrue(events.contains { $0.queueMicros > 100_000 }, "one request must have waited for a slot")
    }

    func testKeyRateLimitAnswers429WithRetryAfter() throws {
        let runtime = try harness.runtime("rate")
        harness.deploy("rate", versions: [("v1", 100, [runtime])])
        var limited = GatewayHarness.tenantA
        limited.keyID = "cdcd0008"
        limited.keyRequestsPerSecond = 0.5
        harness.directory.addKey(id: "cdcd0008", secret: "s", limited)
        XCTAssertEqual(harness.post("/v2/models/rate/infer", key: "plk_cdcd0008_s").status, 200)
        let response = harness.post("/v2/models/rate/infer", key: "plk_cdcd0008_s")
        XCTAssertEqual(response.status, 429)
        XCTAssertEqual(response.headers["Retry-After"], "2")
        // The tenant's other key is not limited by this key's bucket.
        XCTAssertEqual(harness.post("/v2/models/rate/infer").status, 200)
        XCTAssertTrue(
            harness.registry.render().contains(#"plinth_gateway_rate_limited_total{tenant="acme",deployment="rate"} 1"#)
        )
    }

    func testTenantRateLimitCoversAllKeys() throws {
        let runtime = try harness.runtime("tenant-rate")
        harness.deploy("trate", versions: [("v1", 100, [runtime])])
        var first = GatewayHarness.tenantA
        first.keyID = "efef0009"
        first.tenantRequestsPerSecond = 1
        var second = first
        second.keyID = "efef000a"
        harness.directory.addKey(id: "efef0009", secret: "s", first)
        harness.directory.addKey(id: "efef000a", secret: "s", second)
        XCTAssertEqual(harness.post("/v2/models/trate/infer", key: "plk_efef0009_s").status, 200)
        XCTAssertEqual(harness.post("/v2/models/trate/infer", key: "plk_efef000a_s").status, 429)
    }
}

/// Statuses collected from several threads.
final class StatusBox: @unchecked Sendable {
    // Safe: `values` is only touched with `lock` held.
    private let lock = NSLock()
    private var stored: [Int] = []
    func add(_ status: Int) { lock.withLock { stored.append(status) } }
    var values: [Int] { lock.withLock { stored } }
}
