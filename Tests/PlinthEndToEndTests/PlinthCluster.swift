import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A real `plinth serve` child process on an ephemeral port with its own data directory, and a
/// small JSON client for its API. Used by the end-to-end tests.
final class PlinthCluster: @unchecked Sendable {
    // Safe: used from the test's thread only, except `client`, which is thread-safe.
    static let adminPassword = "e2e-admin-password"
    let dataDirectory: String
    /// Extra `plinth serve` flags.
    let arguments: [String]
    private(set) var server: PlinthProcess
    private(set) var port: Int
    let client = HTTPClient()

    init(dataDirectory: String, arguments: [String] = []) throws {
        self.dataDirectory = dataDirectory
        self.arguments = arguments
        (server, port) = try Self.start(dataDirectory, arguments)
    }

    private static func start(_ dataDirectory: String, _ arguments: [String]) throws -> (PlinthProcess, Int) {
        let server = try PlinthProcess(
            ["serve", "--data", dataDirectory, "--listen", "127.0.0.1:0"] + arguments,
            environment: ["PLINTH_ADMIN_PASSWORD": adminPassword])
        guard server.waitForStderr(containing: "plinth serve listening", timeout: 60),
            let port = PlinthProcess.port(fromLog: server.stderrText)
        else {
            server.signal(SIGKILL)
            throw NSError(domain: "PlinthCluster", code: 1, userInfo: [NSLocalizedDescriptionKey: server.stderrText])
        }
        return (server, port)
    }

    /// Starts the server again on the same data directory (after a crash or stop).
    func restart() throws {
        (server, port) = try Self.start(dataDirectory, arguments)
    }

    func stop() {
        server.signal(SIGTERM)
        _ = server.waitForExit(timeout: 30)
    }

    var endpoint: HTTPEndpoint { .tcp(host: "127.0.0.1", port: port) }

    static var adminAuth: String {
        "Basic " + Data("admin:\(adminPassword)".utf8).base64EncodedString()
    }

    /// One request; returns status, headers and the body parsed as JSON when it is JSON.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, auth: String? = PlinthCluster.adminAuth, json: Any? = nil,
        body: [UInt8]? = nil, headers extra: [String: String] = [:]
    ) throws -> (status: Int, headers: HTTPHeaders, json: Any?, body: [UInt8]) {
        var headers = HTTPHeaders()
        if let auth { headers.set("Authorization", auth) }
        for (k, v) in extra { headers.set(k, v) }
        var bytes = body ?? []
        if let json {
            bytes = Array(try JSONSerialization.data(withJSONObject: json))
            headers.set("Content-Type", "application/json")
        }
        let response = try client.send(HTTPClientRequest(method: method, path: path, headers: headers, body: bytes), to: endpoint)
        let parsed = response.body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(response.body))
        return (response.status, response.headers, parsed, response.body)
    }

    /// Creates `tenant` and returns an API key with `role`.
    func tenantWithKey(_ tenant: String, role: String = "developer", deployments: [String]? = nil) throws -> String {
        let created = try call(.POST, "/v1/tenants", json: ["name": tenant])
        XCTAssertTrue(created.status == 201 || created.status == 409, "create tenant: \(created.status)")
        return try key(tenant, role: role, deployments: deployments)
    }

    func key(_ tenant: String, role: String, deployments: [String]? = nil) throws -> String {
        var body: [String: Any] = ["role": role]
        if let deployments { body["deployments"] = deployments }
        let r = try call(.POST, "/v1/tenants/\(tenant)/keys", json: body)
        guard r.status == 201, let key = (r.json as? [String: Any])?["key"] as? String else {
            throw NSError(domain: "PlinthCluster", code: 2, userInfo: [NSLocalizedDescriptionKey: "key: \(r.status) \(String(decoding: r.body, as: UTF8.self))"])
        }
        return key
    }

    /// Issues a worker registration token named `name` and writes it to `path` (mode 0600), as
    /// `plinth worker --token-file` reads it.
    func writeWorkerToken(name: String, to path: String) throws {
        let issued = try call(.POST, "/v1/workers/tokens", json: ["name": name])
        XCTAssertEqual(issued.status, 201)
        let token = try XCTUnwrap((issued.json as? [String: Any])?["token"] as? String)
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600]))
    }

    /// Creates ONNX model `model` and uploads `file` (default: the logistic regression) as version 1.
    func uploadModel(
        tenant: String, auth: String, model: String, file: String = PlinthCluster.vectorsDirectory + "/logreg_30.onnx"
    ) throws {
        XCTAssertEqual(try call(.POST, "/v1/tenants/\(tenant)/models", auth: auth, json: ["name": model, "format": "onnx"]).status, 201)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let upload = try call(.PUT, "/v1/tenants/\(tenant)/models/\(model)/versions/1/artifact", auth: auth, body: bytes)
        XCTAssertEqual(upload.status, 201, String(decoding: upload.body, as: UTF8.self))
    }

    /// Uploads `file` as model `model` version 1 and deploys it as `deployment`; waits until ready.
    func deploy(tenant: String, key: String, model: String, file: String, deployment: String, batch: Int = 8) throws {
        let auth = "Bearer " + key
        try uploadModel(tenant: tenant, auth: auth, model: model, file: file)
        let spec: [String: Any] = [
            "versions": [["model": model, "version": "1"]], "instanceClass": "cpu-small", "minReplicas": 1,
            "batching": ["maxBatchSize": batch, "maxQueueDelayMicros": 200],
        ]
        let put = try call(.PUT, "/v1/tenants/\(tenant)/deployments/\(deployment)", auth: auth, json: spec)
        XCTAssertEqual(put.status, 201, String(decoding: put.body, as: UTF8.self))
        try waitReady(tenant: tenant, key: key, deployment: deployment)
    }

    func waitReady(tenant: String, key: String, deployment: String, timeout: TimeInterval = 90) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            let r = try call(.GET, "/v2/models/\(deployment)/ready", auth: "Bearer " + key)
            if r.status == 200 { return }
            let status = try call(.GET, "/v1/tenants/\(tenant)/deployments/\(deployment)/status", auth: "Bearer " + key)
            last = String(decoding: status.body, as: UTF8.self)
            usleep(100_000)
        }
        throw NSError(domain: "PlinthCluster", code: 3, userInfo: [NSLocalizedDescriptionKey: "not ready: \(last)\n\(server.stderrText.suffix(3000))"])
    }

    /// A logistic-regression OIP request body (30 features).
    static func logregRequest(rows: Int = 1) -> [UInt8] {
        let data = (0..<(30 * rows)).map { String(format: "%.3f", Double($0 % 30) * 0.1 - 1.0) }.joined(separator: ",")
        return Array(#"{"inputs":[{"name":"X","shape":[\#(rows),30],"datatype":"FP32","data":[\#(data)]}]}"#.utf8)
    }

    static var vectorsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PlinthEngineTests/Vectors").path
    }
}
