import Foundation
import PlinthHTTP
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `external` model versions deployed through the API: the worker runs the command from the
/// version's runtime manifest in the sandbox, the gateway routes to it; a command that keeps
/// crashing backs off and shows up in the deployment's status and logs.
final class ExternalRuntimeTests: XCTestCase {
    var directory: URL!
    var cluster: PlinthCluster!

    override func setUpWithError() throws {
        directory = try TestSupport.temporaryDirectory("plinth-ext")
        cluster = try PlinthCluster(dataDirectory: directory.path + "/data")
    }

    override func tearDown() {
        cluster?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Creates external model `model` version 1 from `artifact`, sets `command`, deploys it.
    private func deployExternal(
        tenant: String, key: String, model: String, artifact: [UInt8], command: [String], deployment: String
    ) throws {
        let auth = "Bearer " + key
        let created = try cluster.call(
            .POST, "/v1/tenants/\(tenant)/models", auth: auth, json: ["name": model, "format": "external"])
        XCTAssertEqual(created.status, 201)
        let upload = try cluster.call(
            .PUT, "/v1/tenants/\(tenant)/models/\(model)/versions/1/artifact", auth: auth, body: artifact)
        XCTAssertEqual(upload.status, 201, String(decoding: upload.body, as: UTF8.self))
        let spec: [String: Any] = [
            "versions": [["model": model, "version": "1"]], "instanceClass": "cpu-small", "minReplicas": 1,
        ]
        // Without a manifest the deployment is refused, naming the version.
        let early = try cluster.call(.PUT, "/v1/tenants/\(tenant)/deployments/\(deployment)", auth: auth, json: spec)
        XCTAssertEqual(early.status, 422, String(decoding: early.body, as: UTF8.self))
        let manifest = try cluster.call(
            .PUT, "/v1/tenants/\(tenant)/models/\(model)/versions/1/runtime", auth: auth,
            json: ["command": command, "env": ["EXTERNAL_FLAVOUR": "test"]])
        XCTAssertEqual(manifest.status, 200, String(decoding: manifest.body, as: UTF8.self))
        let put = try cluster.call(.PUT, "/v1/tenants/\(tenant)/deployments/\(deployment)", auth: auth, json: spec)
        XCTAssertEqual(put.status, 201, String(decoding: put.body, as: UTF8.self))
    }

    func testExternalRuntimeFromManifestServesPredictionsThroughTheGateway() throws {
        let key = try cluster.tenantWithKey("acme")
        let plinth = URL(fileURLWithPath: PlinthProcess.binaryPath()).resolvingSymlinksInPath().path
        let model = Array(
            try Data(contentsOf: URL(fileURLWithPath: PlinthCluster.vectorsDirectory + "/logreg_30.onnx")))
        // The plinth binary itself is the external OIP server; it listens on $PLINTH_LISTEN.
        try deployExternal(
            tenant: "acme", key: key, model: "byo", artifact: model,
            command: [plinth, "runtime", "--model", "{artifact}", "--name", "scorer", "--version", "ext-1"],
            deployment: "scorer")
        try cluster.waitReady(tenant: "acme", key: key, deployment: "scorer")

        let ok = try cluster.call(
            .POST, "/v2/models/scorer/infer", auth: "Bearer " + key, body: PlinthCluster.logregRequest(rows: 2))
        XCTAssertEqual(ok.status, 200, String(decoding: ok.body, as: UTF8.self))
        let outputs = try XCTUnwrap((ok.json as? [String: Any])?["outputs"] as? [[String: Any]])
        XCTAssertEqual(Set(outputs.compactMap { $0["name"] as? String }), ["output_label", "output_probability"])
        // Answered by the process the manifest started (its --version), not the built-in argv.
        XCTAssertEqual(
            (ok.json as? [String: Any])?["model_version"] as? String, "ext-1", String(decoding: ok.body, as: UTF8.self))
        XCTAssertEqual(
            try cluster.call(.POST, "/v2/models/scorer/infer", auth: nil, body: PlinthCluster.logregRequest()).status,
            401)
    }

    func testCrashLoopingExternalRuntimeBacksOffAndReportsExitAndOutput() throws {
        let key = try cluster.tenantWithKey("acme")
        let auth = "Bearer " + key
        try deployExternal(
            tenant: "acme", key: key, model: "broken", artifact: Array("not a model\n".utf8),
            command: ["/bin/sh", "-c", "echo boom $EXTERNAL_FLAVOUR $0 >&2; exit 3", "{artifact}"], deployment: "crashy"
        )

        // The condition appears after a few failures, with the exit status and the output.
        var failure: [String: Any]?
        let deadline = Date().addingTimeInterval(60)
        var last = ""
        while Date() < deadline {
            let status = try cluster.call(.GET, "/v1/tenants/acme/deployments/crashy/status", auth: auth)
            last = String(decoding: status.body, as: UTF8.self)
            let conditions = (status.json as? [String: Any])?["conditions"] as? [[String: Any]] ?? []
            failure = conditions.first {
                $0["type"] as? String == "ReplicaFailure" && $0["reason"] as? String == "CrashLoopBackOff"
            }
            if let failure, (failure["restarts"] as? Int ?? 0) >= 3 { break }
            usleep(200_000)
        }
        let condition = try XCTUnwrap(failure, last)
        XCTAssertEqual((condition["exitStatus"] as? [String: Any])?["code"] as? Int, 3, last)
        // The manifest's env and the artifact's path in the replica folder reached the command.
        XCTAssertTrue(
            (condition["logTail"] as? [String] ?? []).contains {
                $0.contains("boom test /") && $0.hasSuffix("/artifact/crashy.model")
            },
            last)
        XCTAssertTrue((condition["message"] as? String ?? "").contains("exit"), last)

        // Backing off (1, 2, 4, 8 s…), not hot-looping: few restarts in the next 6 seconds.
        let before = condition["restarts"] as? Int ?? 0
        sleep(6)
        let later = try cluster.call(.GET, "/v1/tenants/acme/deployments/crashy/status", auth: auth)
        let conditions = (later.json as? [String: Any])?["conditions"] as? [[String: Any]] ?? []
        let after = conditions.first { $0["type"] as? String == "ReplicaFailure" }?["restarts"] as? Int ?? 0
        XCTAssertGreaterThanOrEqual(after, before)
        XCTAssertLessThanOrEqual(after - before, 2, String(decoding: later.body, as: UTF8.self))

        let logs = try cluster.call(.GET, "/v1/tenants/acme/deployments/crashy/logs", auth: auth)
        XCTAssertEqual(logs.status, 200)
        let replicas = (logs.json as? [String: Any])?["replicas"] as? [[String: Any]] ?? []
        XCTAssertTrue(
            replicas.contains { ($0["lines"] as? [String] ?? []).contains { $0.contains("boom") } },
            String(decoding: logs.body, as: UTF8.self))
    }
}
