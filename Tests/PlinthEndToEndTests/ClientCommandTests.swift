import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The CLI's client commands against a real server, and a key revoked while in use.
final class ClientCommandTests: XCTestCase {
    var directory: URL!
    var cluster: PlinthCluster!

    override func setUpWithError() throws {
        directory = try TestSupport.temporaryDirectory("plinth-cli")
        cluster = try PlinthCluster(dataDirectory: directory.path + "/data")
    }

    override func tearDown() {
        cluster?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testTenantsKeysModelsPushAndDeployFromTheCommandLine() throws {
        let admin = [
            "PLINTH_URL": "http://127.0.0.1:\(cluster.port)", "PLINTH_USER": "admin",
            "PLINTH_PASSWORD": PlinthCluster.adminPassword, "PLINTH_TOKEN": "",
        ]
        let created = try PlinthProcess.run(["tenants", "create", "acme"], environment: admin)
        XCTAssertEqual(created.status, 0, created.stderr)
        let again = try PlinthProcess.run(["tenants", "create", "acme"], environment: admin)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("409"), again.stderr)

        let keyRun = try PlinthProcess.run(["keys", "create", "--tenant", "acme", "--role", "developer"], environment: admin)
        XCTAssertEqual(keyRun.status, 0, keyRun.stderr)
        let key = keyRun.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(key.hasPrefix("plk_"), key)

        let dev = ["PLINTH_URL": "http://127.0.0.1:\(cluster.port)", "PLINTH_TOKEN": key]
        let model = PlinthCluster.vectorsDirectory + "/logreg_30.onnx"
        let push = try PlinthProcess.run(
            ["models", "push", model, "--tenant", "acme", "--model", "churn", "--version", "1"], environment: dev)
        XCTAssertEqual(push.status, 0, push.stderr)
        XCTAssertTrue(push.stdout.contains("\"ready\""), push.stdout)
        let deploy = try PlinthProcess.run(
            ["deploy", "scorer", "--tenant", "acme", "--model", "churn", "--version", "1"], environment: dev)
        XCTAssertEqual(deploy.status, 0, deploy.stderr)
        try cluster.waitReady(tenant: "acme", key: key, deployment: "scorer")
        let r = try cluster.call(.POST, "/v2/models/scorer/infer", auth: "Bearer " + key, body: PlinthCluster.logregRequest())
        XCTAssertEqual(r.status, 200)

        // A missing file and bad flags are one-line errors with non-zero exits.
        let missing = try PlinthProcess.run(
            ["models", "push", "/nonexistent.onnx", "--tenant", "acme", "--model", "m", "--version", "1"], environment: dev)
        XCTAssertEqual(missing.status, 1)
        let badFlag = try PlinthProcess.run(["deploy", "x", "--tenant", "acme", "--replicas", "many"], environment: dev)
        XCTAssertEqual(badFlag.status, 2)

        // An external version with its runtime manifest in one push; a bad manifest is refused.
        let external = try PlinthProcess.run(
            [
                "models", "push", model, "--tenant", "acme", "--model", "byo", "--version", "1", "--format", "external",
                "--runtime", #"{"command": ["/bin/sh", "{artifact}"], "env": {"MODE": "fast"}}"#,
            ], environment: dev)
        XCTAssertEqual(external.status, 0, external.stderr)
        XCTAssertTrue(external.stdout.contains("{artifact}"), external.stdout)
        let shown = try cluster.call(.GET, "/v1/tenants/acme/models/byo/versions/1", auth: "Bearer " + key)
        XCTAssertEqual(((shown.json as? [String: Any])?["runtime"] as? [String: Any])?["env"] as? [String: String], ["MODE": "fast"])
        let reserved = try PlinthProcess.run(
            [
                "models", "push", model, "--tenant", "acme", "--model", "byo", "--version", "2",
                "--runtime", #"{"command": ["/bin/sh"], "env": {"PLINTH_SOCKET": "/x"}}"#,
            ], environment: dev)
        XCTAssertEqual(reserved.status, 1)
        XCTAssertTrue(reserved.stderr.contains("PLINTH_SOCKET"), reserved.stderr)
        XCTAssertEqual(try cluster.call(.GET, "/v1/tenants/acme/models/byo/versions/2", auth: "Bearer " + key).status, 404)
        let notJSON = try PlinthProcess.run(
            ["models", "push", model, "--tenant", "acme", "--model", "byo", "--version", "3", "--runtime", "nope"],
            environment: dev)
        XCTAssertEqual(notJSON.status, 2, notJSON.stderr)
    }

    func testRevokedKeyStopsWorkingAtTheGatewayWithinASecond() throws {
        let key = try cluster.tenantWithKey("acme")
        try cluster.deploy(
            tenant: "acme", key: key, model: "churn", file: PlinthCluster.vectorsDirectory + "/logreg_30.onnx",
            deployment: "scorer")
        let invoker = try cluster.key("acme", role: "invoker")
        XCTAssertEqual(
            try cluster.call(.POST, "/v2/models/scorer/infer", auth: "Bearer " + invoker, body: PlinthCluster.logregRequest()).status,
            200)
        let id = String(invoker.dropFirst(4).prefix { $0 != "_" })
        XCTAssertEqual(try cluster.call(.DELETE, "/v1/tenants/acme/keys/\(id)").status, 204)
        let revokedAt = Date()
        var status = 200
        while Date().timeIntervalSince(revokedAt) < 5 {
            status = try cluster.call(
                .POST, "/v2/models/scorer/infer", auth: "Bearer " + invoker, body: PlinthCluster.logregRequest()
            ).status
            if status == 401 { break }
            usleep(50_000)
        }
        XCTAssertEqual(status, 401)
        XCTAssertLessThan(Date().timeIntervalSince(revokedAt), 1.5, "revocation took too long")
    }
}
