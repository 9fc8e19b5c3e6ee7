import Foundation
import PlinthCore
import PlinthHTTP
import PlinthTestSupport
import XCTest

@testable import PlinthGateway

/// Replicas behind a worker's data-plane forwarder: the gateway names the replica and sends the
/// node's secret; the forwarder's "not relayed" 503 is handled like a refused connection.
final class GatewayDataPlaneTests: XCTestCase {
    func testRemoteReplicaRequestsCarryReplicaAndSecretLocalOnesDoNot() {
        let request = HTTPClientRequest(method: .POST, path: "/v2/models/m/infer", headers: ["Accept": "*/*"])
        let remote = ReplicaEndpoint(
            id: "r1", endpoint: .tcp(host: "10.0.0.5", port: 7001), ready: true, dataSecret: "pld_s")
        let addressed = remote.addressing(request)
        XCTAssertEqual(addressed.headers["Plinth-Replica"], "r1")
        XCTAssertEqual(addressed.headers["Authorization"], "Bearer pld_s")
        XCTAssertEqual(addressed.headers["Accept"], "*/*")
        let local = ReplicaEndpoint(id: "r2", endpoint: .unix(path: "/tmp/x.sock"), ready: true)
        XCTAssertNil(local.addressing(request).headers["Authorization"])
        XCTAssertNil(local.addressing(request).headers["Plinth-Replica"])
        XCTAssertFalse("\(remote)".contains("pld_s"), "the secret stays out of descriptions")
        // Only a forwarder's own marked 503 means "nothing relayed"; a model's 503 is an answer.
        let marked = HTTPClientResponse(status: 503, headers: ["Plinth-Not-Relayed": "1"], body: [])
        XCTAssertTrue(remote.wasNotRelayed(marked))
        XCTAssertFalse(local.wasNotRelayed(marked))
        XCTAssertFalse(remote.wasNotRelayed(HTTPClientResponse(status: 503, headers: [:], body: [])))
    }

    func testNotRelayedAnswerEjectsThatReplicaAndRetriesOnAnother() throws {
        for overLoop in [false, true] {
            let harness = try GatewayHarness(overLoop: overLoop)
            defer { harness.stop() }
            let live = try harness.runtime("dp-live")
            // A forwarder whose replica is gone: it answers the marked 503 to every request.
            let router = Router()
            router.add(.POST, "/v2/models/{model}/infer") { request in
                XCTAssertEqual(request.headers["Authorization"], "Bearer pld_s")
                XCTAssertEqual(request.headers["Plinth-Replica"], "gone")
                return HTTPResponse(status: 503, headers: ["Plinth-Not-Relayed": "1"], body: .bytes([]))
            }
            let forwarder = try TestHTTPServer(router: router)
            defer { forwarder.stop() }
            let gone = ReplicaEndpoint(id: "gone", endpoint: forwarder.endpoint, ready: true, dataSecret: "pld_s")
            harness.directory.setRoute(
                tenantID: "ten-a",
                DeploymentRoute(
                    name: "remote",
                    versions: [
                        VersionRoute(version: "v1", weight: 1, replicas: [gone, live.replica()], modelName: "m")
                    ]
                ))
            for _ in 0..<6 {
                XCTAssertEqual(harness.post("/v2/models/remote/infer").status, 200, "over loop: \(overLoop)")
            }
            XCTAssertEqual(live.servedCount, 6)
            XCTAssertTrue(harness.registry.render().contains("plinth_gateway_replica_ejections_total 1"))
        }
    }
}
