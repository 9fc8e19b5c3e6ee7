import Foundation
import PlinthHTTP
import XCTest

@testable import PlinthGateway

/// `infer` over a real server: forwarded on the event loop through its upstream client.
/// (`PLINTH_GATEWAY_TESTS_OVER_LOOP=1 swift test --filter PlinthGatewayTests` runs every gateway
/// test this way.)
final class GatewayEventLoopTests: XCTestCase {
    var harness: GatewayHarness!

    override func setUpWithError() throws {
        harness = try GatewayHarness(overLoop: true)
    }

    override func tearDown() {
        harness.stop()
    }

    func testInferOnTheLoopIsForwardedMeteredAndReusesItsConnection() throws {
        let runtime = try harness.runtime("loop")
        harness.deploy("loop", versions: [("v1", 100, [runtime])])
        for i in 0..<20 {
            let response = harness.post("/v2/models/loop/infer", body: Array("{\"i\":\(i)}".utf8))
            XCTAssertEqual(response.status, 200, response.text)
            XCTAssertEqual(response.headers["Plinth-Model-Version"], "v1")
        }
        XCTAssertEqual(runtime.servedCount, 20)
        let events = try harness.usageEvents()
        XCTAssertEqual(events.count, 20)
        XCTAssertEqual(Set(events.map(\.requestID)).count, 20)
    }

    func testBasicCredentialMissIsCheckedOffTheLoopThenCached() throws {
        let runtime = try harness.runtime("basic")
        harness.deploy("basic", versions: [("v1", 100, [runtime])])
        harness.directory.addUser("alice", password: "pw", GatewayHarness.tenantA)
        let basic = "Basic " + Data("alice:pw".utf8).base64EncodedString()
        for _ in 0..<3 {
            let response = harness.post("/v2/models/basic/infer", key: nil, headers: [("Authorization", basic)])
            XCTAssertEqual(response.status, 200, response.text)
        }
        let threads = harness.directory.basicThreads
        XCTAssertEqual(threads.count, 1, "later calls come from the principal cache")
        let wrong = "Basic " + Data("alice:nope".utf8).base64EncodedString()
        XCTAssertEqual(
            harness.post("/v2/models/basic/infer", key: nil, headers: [("Authorization", wrong)]).status, 401)
    }
}
