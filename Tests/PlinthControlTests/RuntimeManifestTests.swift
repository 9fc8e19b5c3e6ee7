import Foundation
import PlinthControl
import PlinthCore
import PlinthHTTP
import XCTest

/// External versions' runtime manifests: validation, storage, the deploy-time check, and what
/// reaches the worker.
final class RuntimeManifestTests: XCTestCase {
    private let runtimePath = "/v1/tenants/acme/models/ext/versions/1/runtime"

    private func harness() throws -> ControlHarness {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createModel(tenant: "acme", name: "ext", format: "external")
        h.upload(tenant: "acme", model: "ext", version: "1")
        return h
    }

    func testEachBadManifestIs422NamingItsField() throws {
        let h = try harness()
        let long = String(repeating: "a", count: RuntimeManifest.maxArgumentBytes + 1)
        let cases: [(Any, String)] = [
            (["command": [String]()], "command"),
            (["command": [""]], "command[0]"),
            (["command": ["bin/sh"]], "command[0]"),
            (["command": ["./run"]], "command[0]"),
            (["command": ["/"]], "command[0]"),
            (["command": ["{artifact}"]], "command[0]"),
            (["command": ["/bin/sh", "a\u{0}b"]], "command[1]"),
            (["command": ["/bin/sh", long]], "command[1]"),
            (["command": Array(repeating: "/bin/true", count: RuntimeManifest.maxArguments + 1)], "command"),
            (["command": Array(repeating: String(repeating: "b", count: 4000), count: 9)], "command"),
            (["command": ["/bin/sh"], "env": ["PLINTH_SOCKET": "/tmp/x"]], "env.PLINTH_SOCKET"),
            (["command": ["/bin/sh"], "env": ["PATH": "/tmp"]], "env.PATH"),
            (["command": ["/bin/sh"], "env": ["1BAD": "x"]], "env"),
            (["command": ["/bin/sh"], "env": ["A=B": "x"]], "env"),
            (["command": ["/bin/sh"], "env": ["OK": "a\u{0}"]], "env.OK"),
            (["command": ["/bin/sh"], "env": ["OK": String(repeating: "v", count: 5000)]], "env.OK"),
            (
                ["command": ["/bin/sh"], "env": Dictionary(uniqueKeysWithValues: (0...64).map { ("V\($0)", "x") })],
                "env"
            ),
        ]
        for (body, field) in cases {
            let reply = h.expect(422, .PUT, runtimePath, json: body)
            XCTAssertEqual(reply.json["field"] as? String, field, "\(body): \(reply.text)")
        }
        h.expect(400, .PUT, runtimePath, json: ["env": ["A": "b"]])
        h.expect(400, .PUT, runtimePath, body: Array("not json".utf8))
        XCTAssertNil(h.expect(200, .GET, "/v1/tenants/acme/models/ext/versions/1").json["runtime"])
    }

    func testManifestIsStoredShownAndRejectedForOnnx() throws {
        let h = try harness()
        let manifest: [String: Any] = [
            "command": ["python3", "/srv/serve.py", "--model={artifact}"], "env": ["THREADS": "2"],
        ]
        let set = h.expect(200, .PUT, runtimePath, json: manifest)
        let runtime = try XCTUnwrap(set.json["runtime"] as? [String: Any])
        XCTAssertEqual(runtime["command"] as? [String], ["python3", "/srv/serve.py", "--model={artifact}"])
        XCTAssertEqual(runtime["env"] as? [String: String], ["THREADS": "2"])
        let shown = h.expect(200, .GET, "/v1/tenants/acme/models/ext/versions/1").json["runtime"] as? [String: Any]
        XCTAssertEqual(shown?["command"] as? [String], ["python3", "/srv/serve.py", "--model={artifact}"])

        h.createModel(tenant: "acme", name: "plain")
        h.upload(tenant: "acme", model: "plain", version: "1")
        let onnx = h.expect(422, .PUT, "/v1/tenants/acme/models/plain/versions/1/runtime", json: manifest)
        XCTAssertEqual(onnx.json["field"] as? String, "runtime")
        h.expect(404, .PUT, "/v1/tenants/acme/models/ext/versions/9/runtime", json: manifest)
        // Another tenant's caller cannot set it, nor learn that it exists.
        h.createTenant("globex")
        let foreign = try h.createKey(tenant: "globex", role: "developer")
        h.expect(404, .PUT, runtimePath, headers: ControlHarness.bearer(foreign), json: manifest)
    }

    func testExternalVersionWithoutManifestCannotBeDeployed() throws {
        let h = try harness()
        let refused = h.expect(
            422, .PUT, "/v1/tenants/acme/deployments/d",
            json: ["versions": [["model": "ext", "version": "1"]], "instanceClass": "cpu-small"])
        XCTAssertEqual(refused.json["field"] as? String, "versions[0]")
        XCTAssertTrue(refused.text.contains("runtime manifest"), refused.text)
        h.expect(200, .PUT, runtimePath, json: ["command": ["/bin/sh", "{artifact}"]])
        h.deploy(tenant: "acme", name: "d", model: "ext", version: "1")
    }

    func testWorkerGetsCommandAndEnvAndReplicaIDFollowsTheManifest() throws {
        let h = try harness()
        h.expect(200, .PUT, runtimePath, json: ["command": ["/bin/sh", "{artifact}"], "env": ["MODE": "a"]])
        h.expect(
            201, .PUT, "/v1/tenants/acme/deployments/d",
            json: ["versions": [["model": "ext", "version": "1"]], "instanceClass": "cpu-small", "minReplicas": 1])
        func wanted() throws -> WantedReplica {
            try XCTUnwrap(WantedReplica.all(in: h.plane.routingSnapshot(), classes: [:]).first)
        }
        let first = try wanted()
        let desired = first.desired(placement: Placement(workerID: "w"), artifactSizeBytes: 11)
        XCTAssertEqual(desired.format, "external")
        XCTAssertEqual(desired.command, ["/bin/sh", "{artifact}"])
        XCTAssertEqual(desired.environment, ["MODE": "a"])
        XCTAssertEqual(try wanted().id, first.id)  // stable while nothing changes

        h.expect(200, .PUT, runtimePath, json: ["command": ["/bin/sh", "{artifact}"], "env": ["MODE": "b"]])
        let changedEnv = try wanted()
        XCTAssertNotEqual(changedEnv.id, first.id)
        h.expect(200, .PUT, runtimePath, json: ["command": ["/bin/sh", "-e", "{artifact}"], "env": ["MODE": "b"]])
        XCTAssertNotEqual(try wanted().id, changedEnv.id)
    }
}
