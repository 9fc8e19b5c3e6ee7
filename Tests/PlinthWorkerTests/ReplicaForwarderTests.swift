import Foundation
import PlinthCore
import PlinthHTTP
import PlinthTestSupport
import Synchronization
import XCTest

@testable import PlinthWorker

/// The worker's data-plane forwarder: who may use it, which replica a request reaches, and that
/// requests and answers pass byte for byte.
final class ReplicaForwarderTests: XCTestCase {
    /// A stand-in replica on a Unix socket that records what it received and echoes the body.
    final class FakeReplica: Sendable {
        let server: TestHTTPServer
        let socket: String
        let log = Log()

        final class Log: Sendable {
            let seen = Mutex<[HTTPRequest]>([])
        }

        init(directory: String) throws {
            socket = directory + "/replica.sock"
            let router = Router()
            let log = self.log
            router.add(.POST, "/v2/models/{model}/infer") { request in
                log.seen.withLock { $0.append(request) }
                var headers = HTTPHeaders()
                headers.add("Content-Type", "application/octet-stream")
                headers.add("Inference-Header-Content-Length", "7")
                return HTTPResponse(status: 200, headers: headers, body: .bytes(request.body))
            }
            server = try TestHTTPServer(router: router, extraListen: [.unix(path: socket)])
        }

        var calls: Int { log.seen.withLock { $0.count } }
    }

    var directory = ""
    var replica: FakeReplica!
    var forwarder: ReplicaForwarder!
    var port = 0
    let client = HTTPClient()

    override func setUpWithError() throws {
        directory = try TestSupport.temporaryDirectory("plfw").path
        replica = try FakeReplica(directory: directory)
        let socket = replica.socket
        let missing = directory + "/gone.sock"
        forwarder = ReplicaForwarder(listen: .tcp(host: "127.0.0.1", port: 0), eventLoops: 1) { id in
            switch id {
            case "r1": .running(.unix(path: socket))
            case "r-dead": .running(.unix(path: missing))
            case "r-starting": .notRunning
            default: .unknown
            }
        }
        guard case .tcp(_, let bound) = try forwarder.start() else { return XCTFail("no TCP port") }
        port = bound
    }

    override func tearDown() {
        forwarder?.shutdown()
        replica?.server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func send(replica id: String?, secret: String?, body: [UInt8] = Array("{}".utf8)) throws -> HTTPClientResponse {
        var headers = HTTPHeaders()
        if let id { headers.add("Plinth-Replica", id) }
        if let secret { headers.add("Authorization", "Bearer " + secret) }
        headers.add("Content-Type", "application/octet-stream")
        headers.add("Inference-Header-Content-Length", "7")
        return try client.send(
            HTTPClientRequest(method: .POST, path: "/v2/models/m/infer", headers: headers, body: body),
            to: .tcp(host: "127.0.0.1", port: port))
    }

    func testRequestsWithoutTheRightSecretGet401AndNeverReachAReplica() throws {
        XCTAssertEqual(try send(replica: "r1", secret: "anything").status, 401, "no secret issued yet: nobody passes")
        forwarder.setSecret("pld_right")
        for secret in [nil, "", "pld_wrong", "pld_righ", "pld_right2"] as [String?] {
            let response = try send(replica: "r1", secret: secret)
            XCTAssertEqual(response.status, 401, "secret \(secret ?? "(none)")")
            XCTAssertEqual(response.headers["WWW-Authenticate"], "Bearer")
        }
        // Unauthenticated callers learn nothing about which replicas exist.
        XCTAssertEqual(try send(replica: "nope", secret: nil).status, 401)
        XCTAssertEqual(replica.calls, 0)
        XCTAssertEqual(forwarder.counters.unauthorized, 7)
        XCTAssertEqual(forwarder.counters.forwarded, 0)
    }

    func testAuthenticatedRequestReachesTheNamedReplicaByteForByte() throws {
        forwarder.setSecret("pld_right")
        // Binary tensor payload: JSON header then raw bytes, zeros and CR/LF included.
        let body: [UInt8] = Array(#"{"a":1}"#.utf8) + [0, 13, 10, 255, 0, 1, 2, 3]
        let response = try send(replica: "r1", secret: "pld_right", body: body)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, body)
        XCTAssertEqual(response.headers["Inference-Header-Content-Length"], "7")
        let seen = try XCTUnwrap(replica.log.seen.withLock { $0.first })
        XCTAssertEqual(seen.body, body)
        XCTAssertEqual(seen.path, "/v2/models/m/infer")
        XCTAssertEqual(seen.headers["Inference-Header-Content-Length"], "7")
        XCTAssertNil(seen.headers["Authorization"], "the data-plane secret never reaches a replica")
        XCTAssertNil(seen.headers["Plinth-Replica"])
        XCTAssertEqual(forwarder.counters.forwarded, 1)
        // Keep-alive: a second request on the pooled connections works too.
        XCTAssertEqual(try send(replica: "r1", secret: "pld_right").status, 200)
        XCTAssertEqual(forwarder.counters.forwarded, 2)
    }

    func testUnknownStoppedOrUnreachableReplicasAnswer503MarkedNotRelayed() throws {
        forwarder.setSecret("pld_right")
        XCTAssertEqual(try send(replica: nil, secret: "pld_right").status, 400)
        for id in ["r9", "r-starting", "r-dead"] {
            let response = try send(replica: id, secret: "pld_right")
            XCTAssertEqual(response.status, 503, id)
            XCTAssertEqual(response.headers[DataPlaneHeaders.notRelayed], "1", id)
        }
        XCTAssertEqual(replica.calls, 0)
        XCTAssertEqual(forwarder.counters.unknownReplica, 3)
        XCTAssertEqual(forwarder.counters.upstreamFailures, 1)
    }

    func testSecretRotationRefusesTheOldSecret() throws {
        forwarder.setSecret("pld_one")
        XCTAssertEqual(try send(replica: "r1", secret: "pld_one").status, 200)
        forwarder.setSecret("pld_two")
        XCTAssertEqual(try send(replica: "r1", secret: "pld_one").status, 401)
        XCTAssertEqual(try send(replica: "r1", secret: "pld_two").status, 200)
    }

    func testAdvertisedEndpointNeedsAConcreteAddress() throws {
        XCTAssertEqual(
            try WorkerAgent.advertisedEndpoint(bound: .tcp(host: "127.0.0.1", port: 7001), advertise: nil),
            "http://127.0.0.1:7001")
        XCTAssertEqual(
            try WorkerAgent.advertisedEndpoint(bound: .tcp(host: "0.0.0.0", port: 7001), advertise: "10.0.0.5:7001"),
            "http://10.0.0.5:7001")
        XCTAssertThrowsError(
            try WorkerAgent.advertisedEndpoint(bound: .tcp(host: "0.0.0.0", port: 7001), advertise: nil))
        XCTAssertThrowsError(
            try WorkerAgent.advertisedEndpoint(bound: .tcp(host: "127.0.0.1", port: 7001), advertise: "no port"))
    }

    func testPlannerGivesTheRuntimeTheDeploymentsSettings() throws {
        let planner = ReplicaPlanner(runtimeCommand: ["plinth", "runtime"], replicasDirectory: "/r", accessLog: true)
        let replica = DesiredReplica(
            id: "r1", tenant: "acme", deployment: "scorer", version: "3", format: "onnx",
            artifact: ArtifactReference(sha256: "ab", sizeBytes: 1, downloadPath: "/x", fileName: "scorer.onnx"),
            limits: InstanceLimits(instanceClass: "cpu-small", cpuMillicores: 1000, memoryBytes: 1 << 30),
            runtime: RuntimeSettings(maxBatchSize: 32, maxQueueDelayMicros: 1500, maxBodyBytes: 4096))
        let command = try planner.launch(for: replica, artifactPath: "/cache/ab").command
        XCTAssertEqual(
            command,
            [
                "plinth", "runtime", "--model", "/r/r1/artifact/scorer.onnx", "--listen", "unix:/r/r1/run/replica.sock",
                "--name", "scorer", "--version", "3", "--event-loops", "1", "--max-batch", "32", "--max-delay-us", "1500",
                "--max-body-bytes", "4096", "--access-log",
            ])
        // A replica gets one event loop per CPU of its instance class.
        var large = replica
        large.limits = InstanceLimits(instanceClass: "cpu-large", cpuMillicores: 2500, memoryBytes: 1 << 30)
        let largeCommand = try planner.launch(for: large, artifactPath: "/cache/ab").command
        XCTAssertEqual(largeCommand.firstIndex(of: "--event-loops").map { largeCommand[$0 + 1] }, "3")
        // The settings travel in the desired state (JSON) to remote workers.
        let decoded = try JSONDecoder().decode(DesiredReplica.self, from: JSONEncoder().encode(replica))
        XCTAssertEqual(decoded.runtime, replica.runtime)
    }
}
