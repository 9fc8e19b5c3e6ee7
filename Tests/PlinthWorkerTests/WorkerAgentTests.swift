import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import Synchronization
import XCTest

@testable import PlinthWorker

/// The agent against a small in-test control plane on the real HTTP server.
final class WorkerAgentTests: XCTestCase {
    /// What the fake control plane saw and what it answers.
    final class FakeControlPlane: Sendable {
        struct State {
            var registrations: [RegisterRequest] = []
            var heartbeats: [Heartbeat] = []
            var desired = DesiredState(generation: 1, replicas: [], heartbeatIntervalSeconds: 0.2)
            var artifacts: [String: [UInt8]] = [:]
            var badTokens = 0
        }
        let state = Mutex(State())
        let token = "node-token-123"
        let router = Router()

        init() {
            let token = self.token
            let plane = self
            @Sendable func authorized(_ request: HTTPRequest) -> Bool {
                guard request.headers["Authorization"] == "Bearer " + token else {
                    plane.state.withLock { $0.badTokens += 1 }
                    return false
                }
                return true
            }
            router.add(.POST, "/v1/workers/register") { request in
                guard authorized(request) else { return .error(401, "bad token") }
                let body = try request.decodeJSON(RegisterRequest.self)
                plane.state.withLock { $0.registrations.append(body) }
                return .json(RegisterResponse(workerID: "w-1", heartbeatIntervalSeconds: 0.2))
            }
            router.add(.POST, "/v1/workers/{worker}/heartbeat") { request in
                guard authorized(request) else { return .error(401, "bad token") }
                guard request.pathParameters["worker"] == "w-1" else { return .error(404, "unknown worker") }
                let body = try request.decodeJSON(Heartbeat.self)
                return .json(
                    plane.state.withLock { s -> DesiredState in
                        s.heartbeats.append(body)
                        return s.desired
                    })
            }
            router.add(.GET, "/v1/workers/artifacts/{sha}") { request in
                guard authorized(request) else { return .error(401, "bad token") }
                guard let bytes = plane.state.withLock({ $0.artifacts[request.pathParameters["sha"] ?? ""] }) else {
                    return .error(404, "no such artifact")
                }
                return HTTPResponse(status: 200, body: .bytes(bytes))
            }
        }

        var lastHeartbeat: Heartbeat? { state.withLock { $0.heartbeats.last } }
    }

    func testAgentRegistersRunsDesiredReplicaFromVerifiedArtifactAndStopsIt() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let control = FakeControlPlane()
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(listen: [.tcp(host: "127.0.0.1", port: 0)]), router: control.router)
        let addresses: [ListenAddress]
        do {
            addresses = try server.start()
        } catch {
            throw XCTSkip("the HTTP server is not available in this build: \(error)")
        }
        defer { server.shutdown() }
        guard case .tcp(_, let port)? = addresses.first else { return XCTFail("no TCP address") }

        let script = Array(FixtureRuntimes.oipServer.utf8)
        let digest = SHA256.hex(script)
        var corrupt = script
        corrupt[0] ^= 1
        control.state.withLock {
            $0.artifacts[digest] = script
            $0.artifacts[String(repeating: "0", count: 64)] = corrupt
        }
        let limits = InstanceLimits(
            instanceClass: "cpu-small", cpuMillicores: 500, memoryBytes: 256 << 20, maxProcesses: 64, maxOpenFiles: 256)
        let good = DesiredReplica(
            id: "r-good", tenant: "acme", deployment: "echo", version: "1", format: "external",
            artifact: ArtifactReference(
                sha256: digest, sizeBytes: UInt64(script.count), downloadPath: "/v1/workers/artifacts/\(digest)",
                fileName: "server.py"),
            command: ["/usr/bin/python3", "server.py"], limits: limits)
        var bad = good
        bad.id = "r-bad"
        bad.artifact = ArtifactReference(
            sha256: String(repeating: "0", count: 64), sizeBytes: UInt64(script.count),
            downloadPath: "/v1/workers/artifacts/\(String(repeating: "0", count: 64))", fileName: "server.py")
        control.state.withLock {
            $0.desired = DesiredState(generation: 1, replicas: [good, bad], heartbeatIntervalSeconds: 0.2)
        }

        let data = harness.root + "/agent"
        let agent = try WorkerAgent(
            configuration: WorkerConfiguration(
                controlURL: "http://127.0.0.1:\(port)", token: control.token, dataDirectory: data,
                nodeName: "test-node",
                plinthBinary: harness.sandbox.launcherPath,
                policy: ReplicaLifecyclePolicy(
                    probeInterval: 0.2, probeTimeout: 2, backoffBase: 0.2, backoffCap: 1, drainGrace: 3),
                heartbeatIntervalSeconds: 0.2),
            logger: Logger(component: "worker-test", minimumLevel: .error))
        let finished = Mutex(false)
        let thread = Thread {
            agent.run()
            finished.withLock { $0 = true }
        }
        thread.start()
        defer {
            agent.stop()
            _ = SandboxHarness.waitUntil(timeout: 15) { finished.withLock { $0 } }
        }

        XCTAssertTrue(
            SandboxHarness.waitUntil(timeout: 30) {
                let reports = control.lastHeartbeat?.replicas ?? []
                return reports.contains { $0.id == "r-good" && $0.phase == .ready }
                    && reports.contains { $0.id == "r-bad" && $0.condition?.reason == "ArtifactUnavailable" }
            }, "\(String(describing: control.lastHeartbeat))")
        let registration = try XCTUnwrap(control.state.withLock { $0.registrations.first })
        XCTAssertEqual(registration.nodeName, "test-node")
        XCTAssertEqual(registration.isolation, agent.isolation)
        XCTAssertGreaterThan(registration.capacity.memoryBytes, 0)
        XCTAssertEqual(control.lastHeartbeat?.appliedGeneration, 1)
        let ready = try XCTUnwrap(control.lastHeartbeat?.replicas.first { $0.id == "r-good" })
        let socket = try XCTUnwrap(ready.endpoint?.dropFirst("unix:".count))
        XCTAssertTrue(
            ReadinessProbe.isReady(socketPath: String(socket), timeoutSeconds: 5), "the gateway can reach it directly")
        XCTAssertTrue(agent.cache.contains(digest))
        XCTAssertFalse(agent.cache.contains(String(repeating: "0", count: 64)), "a corrupt download is never cached")
        XCTAssertEqual(control.state.withLock { $0.badTokens }, 0)

        control.state.withLock { $0.desired = DesiredState(generation: 2, replicas: [], heartbeatIntervalSeconds: 0.2) }
        XCTAssertTrue(
            SandboxHarness.waitUntil(timeout: 20) {
                let beat = control.lastHeartbeat
                return beat?.appliedGeneration == 2 && beat?.replicas.isEmpty == true
            }, "\(String(describing: control.lastHeartbeat))")
    }
}
