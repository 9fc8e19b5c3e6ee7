import Foundation
import PlinthCore
import PlinthHTTP
import PlinthTestSupport
import XCTest

@testable import PlinthGateway

/// A gateway wired to the test directory, a real usage journal in a temp folder and runtime
/// stand-ins on Unix sockets. Requests go through `Router.handle` (the full route pipeline) and
/// from there over real sockets to the stand-ins.
///
/// `@unchecked Sendable`: `cleanups` is only changed on the test's own thread (setup and test
/// body); the other threads a test starts only call `post`/`get`, which touch immutable state.
final class GatewayHarness: @unchecked Sendable {
    static let keyA = "plk_aaaa0001_secretA"
    static let keyB = "plk_bbbb0002_secretB"
    static let tenantA = GatewayPrincipal(
        tenantID: "ten-a", tenantName: "acme", keyID: "aaaa0001", subject: "key-a", role: "developer")
    static let tenantB = GatewayPrincipal(
        tenantID: "ten-b", tenantName: "globex", keyID: "bbbb0002", subject: "key-b", role: "developer")

    let directory = GatewayTestDirectory()
    let registry = MetricsRegistry()
    let router = Router()
    let journalDirectory: String
    let journal: UsageJournal
    let gateway: Gateway
    /// Set when `post` goes over a real server (the event-loop path of `infer`) instead of
    /// `Router.handle` (the blocking path). `PLINTH_GATEWAY_TESTS_OVER_LOOP=1` makes it the default.
    let server: TestHTTPServer?
    private let client = HTTPClient()
    private var cleanups: [() -> Void] = []

    static var overLoopByDefault: Bool {
        ProcessInfo.processInfo.environment["PLINTH_GATEWAY_TESTS_OVER_LOOP"] == "1"
    }

    init(overLoop: Bool = GatewayHarness.overLoopByDefault, configure: (inout GatewayConfiguration) -> Void = { _ in })
        throws
    {
        journalDirectory = NSTemporaryDirectory() + "plinth-gw-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true)
        journal = try UsageJournal(directory: journalDirectory)
        var configuration = GatewayConfiguration(serverVersion: "9.9.9")
        configure(&configuration)
        gateway = Gateway(configuration: configuration, directory: directory, journal: journal, metrics: registry)
        gateway.register(on: router)
        directory.addKey(id: "aaaa0001", secret: "secretA", GatewayHarness.tenantA)
        directory.addKey(id: "bbbb0002", secret: "secretB", GatewayHarness.tenantB)
        server = overLoop ? try TestHTTPServer(router: router) : nil
    }

    /// Starts a runtime stand-in that is stopped with the harness.
    func runtime(_ name: String, _ behaviour: RuntimeStandIn.Behaviour = .echo) throws -> RuntimeStandIn {
        let runtime = try RuntimeStandIn(name: name, behaviour: behaviour)
        cleanups.append { runtime.stop() }
        return runtime
    }

    /// A one-version deployment for tenant A served by `runtimes`.
    func deploy(
        _ name: String, tenant: String = "ten-a", versions: [(String, Int, [RuntimeStandIn])],
        shadow: VersionRoute? = nil, configure: (inout DeploymentRoute) -> Void = { _ in }
    ) {
        var route = DeploymentRoute(
            name: name,
            versions: versions.map { v in
                VersionRoute(version: v.0, weight: v.1, replicas: v.2.map { $0.replica() }, modelName: "model-\(v.0)")
            }, shadow: shadow, requestTimeout: .seconds(10))
        configure(&route)
        directory.setRoute(tenantID: tenant, route)
    }

    func onCleanup(_ body: @escaping () -> Void) { cleanups.append(body) }

    func post(
        _ path: String, key: String? = GatewayHarness.keyA, body: [UInt8] = Array(#"{"inputs":[]}"#.utf8),
        headers extra: [(String, String)] = []
    ) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        if let key { headers.add("Authorization", "Bearer " + key) }
        for (name, value) in extra { headers.add(name, value) }
        if let server {
            let request = HTTPClientRequest(method: .POST, path: path, headers: headers, body: body)
            guard let answer = try? client.send(request, to: server.endpoint) else {
                return HTTPResponse.error(599, "harness: no answer from the server")
            }
            return HTTPResponse(status: answer.status, headers: answer.headers, body: .bytes(answer.body))
        }
        return router.handle(HTTPRequest(method: .POST, path: path, headers: headers, body: body))
    }

    func get(_ path: String, key: String? = GatewayHarness.keyA) -> HTTPResponse {
        var headers = HTTPHeaders()
        if let key { headers.add("Authorization", "Bearer " + key) }
        return router.handle(HTTPRequest(method: .GET, path: path, headers: headers))
    }

    /// Usage events written so far.
    func usageEvents() throws -> [UsageEvent] {
        try journal.flush()
        return try UsageJournalReader(directory: journalDirectory).events()
    }

    func stop() {
        server?.stop()
        gateway.shutdown()
        for cleanup in cleanups.reversed() { cleanup() }
        journal.close()
        try? FileManager.default.removeItem(atPath: journalDirectory)
    }
}

extension HTTPResponse {
    var bytes: [UInt8] {
        if case .bytes(let b) = body { return b }
        return []
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Polls `condition` until it holds or `timeout` passes (robust under CPU contention).
func eventually(timeout: TimeInterval = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}
