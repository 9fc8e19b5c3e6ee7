import Foundation
import PlinthControl
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import XCTest

/// A control plane on a temporary data directory with cheap password hashing, driven through
/// `Router.handle` (no sockets).
final class ControlHarness {
    let directory: String
    let plane: ControlPlane
    let router: Router
    let adminPassword = "admin-password-1"
    private(set) var adminToken = ""
    private var counter = 0

    /// A new control plane; `tune` adjusts the configuration (iterations are lowered by default).
    /// Whether deinit removes the directory (false for a harness reopened on another's).
    var removesDirectory: Bool

    init(
        inMemoryDisk: Bool = true, reopening existing: String? = nil,
        tune: (inout ControlPlaneConfiguration) -> Void = { _ in }
    ) throws {
        let base =
            inMemoryDisk && FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        directory = existing ?? base + "/plinth-control-\(UUID().uuidString)"
        removesDirectory = existing == nil
        var configuration = Self.configuration(directory: directory, adminPassword: adminPassword)
        tune(&configuration)
        plane = try ControlPlane(configuration: configuration)
        router = Router()
        plane.register(on: router)
        adminToken = try token(username: "admin", password: adminPassword)
    }

    static func configuration(directory: String, adminPassword: String) -> ControlPlaneConfiguration {
        var configuration = ControlPlaneConfiguration(dataDirectory: directory)
        configuration.adminPassword = adminPassword
        configuration.passwordIterations = 1_000
        configuration.maxFailedLoginsPerUser = 10_000
        configuration.maxFailedLoginsPerAddress = 10_000
        configuration.bootstrapOutput = { _ in }
        return configuration
    }

    deinit {
        guard removesDirectory else { return }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A name unique within this harness.
    func unique(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)-\(counter)"
    }

    // MARK: Requests

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var bytes: [UInt8]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:] }
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    static func bearer(_ token: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.set("Authorization", "Bearer \(token)")
        return headers
    }

    static func basic(_ username: String, _ password: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.set("Authorization", "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
        return headers
    }

    var admin: HTTPHeaders { Self.bearer(adminToken) }

    func send(
        _ method: HTTPMethod, _ path: String, query: String = "", headers: HTTPHeaders = HTTPHeaders(),
        json: Any? = nil, body: [UInt8]? = nil
    ) -> Reply {
        var headers = headers
        var bytes = body ?? []
        if let json {
            bytes = Array((try? JSONSerialization.data(withJSONObject: json)) ?? Data())
            headers.set("Content-Type", "application/json")
        }
        var request = HTTPRequest(method: method, path: path, query: query, headers: headers, body: bytes)
        request.remoteAddress = "10.0.0.1:4000"
        let response = router.handle(request)
        var collected: [UInt8] = []
        switch response.body {
        case .bytes(let b): collected = b
        case .stream: collected = []
        }
        return Reply(status: response.status, headers: response.headers, bytes: collected)
    }

    /// Sends and fails the test unless the status is `expected`.
    @discardableResult
    func expect(
        _ expected: Int, _ method: HTTPMethod, _ path: String, query: String = "", headers: HTTPHeaders? = nil,
        json: Any? = nil, body: [UInt8]? = nil, file: StaticString = #filePath, line: UInt = #line
    ) -> Reply {
        let reply = send(method, path, query: query, headers: headers ?? admin, json: json, body: body)
        XCTAssertEqual(reply.status, expected, "\(method) \(path)?\(query): \(reply.text)", file: file, line: line)
        return reply
    }

    // MARK: Fixtures

    func token(username: String, password: String) throws -> String {
        let reply = send(.POST, "/v1/auth/token", headers: Self.basic(username, password))
        guard reply.status == 200, let token = reply.json["token"] as? String else {
            throw HarnessError.failed("token for \(username): \(reply.status) \(reply.text)")
        }
        return token
    }

    func createTenant(_ name: String, quotas: [String: Any] = [:], labels: [String: String] = [:]) {
        expect(201, .POST, "/v1/tenants", json: ["name": name, "quotas": quotas, "labels": labels])
    }

    /// Creates an API key as the admin and returns the full token.
    func createKey(tenant: String, role: String, deployments: [String]? = nil) throws -> String {
        var body: [String: Any] = ["role": role]
        if let deployments { body["deployments"] = deployments }
        let reply = expect(201, .POST, "/v1/tenants/\(tenant)/keys", json: body)
        guard let key = reply.json["key"] as? String else { throw HarnessError.failed("no key in \(reply.text)") }
        return key
    }

    func createUser(tenant: String, username: String, password: String, role: String) {
        expect(
            201, .POST, "/v1/tenants/\(tenant)/users", json: ["username": username, "password": password, "role": role])
    }

    func createModel(tenant: String, name: String, format: String = "onnx") {
        expect(201, .POST, "/v1/tenants/\(tenant)/models", json: ["name": name, "format": format])
    }

    func upload(tenant: String, model: String, version: String, bytes: [UInt8] = Array("model-bytes".utf8)) {
        var headers = admin
        headers.set("Content-Type", "application/octet-stream")
        expect(
            201, .PUT, "/v1/tenants/\(tenant)/models/\(model)/versions/\(version)/artifact", headers: headers,
            body: bytes)
    }

    func deploy(tenant: String, name: String, model: String, version: String, expected: Int = 201) {
        expect(
            expected, .PUT, "/v1/tenants/\(tenant)/deployments/\(name)",
            json: [
                "versions": [["model": model, "version": version, "weight": 100]], "instanceClass": "cpu-small",
                "minReplicas": 0, "maxReplicas": 1,
            ])
    }

    /// Reads the signing key from jwt.key and signs arbitrary claims with it.
    func signToken(claims: [String: JSONValue]) throws -> String {
        let text = try String(contentsOfFile: directory + "/jwt.key", encoding: .utf8)
        guard let line = text.split(separator: "\n").first else { throw HarnessError.failed("empty key file") }
        let parts = line.split(separator: " ")
        guard parts.count == 2, let secret = Base64URL.decode(String(parts[1])) else {
            throw HarnessError.failed("bad key file")
        }
        return JWTSigner.hs256(claims: claims, secret: secret, kid: String(parts[0]))
    }

    enum HarnessError: Error { case failed(String) }
}

extension ControlHarness {
    /// One heartbeat from worker `workerID` reporting `replicas` (no load); returns what the
    /// control plane wants that worker to run.
    func heartbeat(
        _ workerID: String, replicas: [PlinthCore.ReplicaReport] = [], sequence: Int = 1, now: Date = Date()
    ) throws -> DesiredState {
        try plane.acceptHeartbeat(
            Heartbeat(
                workerID: workerID, sequence: sequence, appliedGeneration: 0, replicas: replicas,
                usage: NodeUsage(memoryBytesUsed: 0, loadAverage1m: 0)),
            tokenID: nil, now: now)
    }
}
