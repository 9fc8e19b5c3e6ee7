import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Upload an ONNX model, deploy it, call it with an API key, see it metered — through the real
/// binary, real sockets, a real sandboxed replica process and the real SQLite file.
final class VerticalSliceTests: XCTestCase {
    var directory: URL!
    var cluster: PlinthCluster!

    override func setUpWithError() throws {
        directory = try TestSupport.temporaryDirectory("plinth-e2e")
        cluster = try PlinthCluster(dataDirectory: directory.path + "/data")
    }

    override func tearDown() {
        cluster?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testUploadDeployPredictWithAPIKeyIsMeteredAndIsolatedPerTenant() throws {
        let acme = try cluster.tenantWithKey("acme")
        let globex = try cluster.tenantWithKey("globex")
        try cluster.deploy(
            tenant: "acme", key: acme, model: "churn", file: PlinthCluster.vectorsDirectory + "/logreg_30.onnx",
            deployment: "scorer")

        let ok = try cluster.call(
            .POST, "/v2/models/scorer/infer", auth: "Bearer " + acme, body: PlinthCluster.logregRequest(rows: 2))
        XCTAssertEqual(ok.status, 200, String(decoding: ok.body, as: UTF8.self))
        XCTAssertEqual(ok.headers["Plinth-Model-Version"], "1")
        let outputs = try XCTUnwrap((ok.json as? [String: Any])?["outputs"] as? [[String: Any]])
        XCTAssertEqual(Set(outputs.compactMap { $0["name"] as? String }), ["output_label", "output_probability"])
        XCTAssertEqual((ok.json as? [String: Any])?["model_name"] as? String, "scorer")

        // The same deployment name under another tenant's credential does not exist.
        let foreign = try cluster.call(
            .POST, "/v2/models/scorer/infer", auth: "Bearer " + globex, body: PlinthCluster.logregRequest())
        XCTAssertEqual(foreign.status, 404)
        XCTAssertEqual(try cluster.call(.GET, "/v2/models/scorer", auth: "Bearer " + globex).status, 404)
        // No credential, a forged key, a viewer key, and a key scoped to another deployment.
        XCTAssertEqual(try cluster.call(.POST, "/v2/models/scorer/infer", auth: nil, body: PlinthCluster.logregRequest()).status, 401)
        let forged = String(acme.dropLast(4)) + "AAAA"
        XCTAssertEqual(try cluster.call(.POST, "/v2/models/scorer/infer", auth: "Bearer " + forged, body: PlinthCluster.logregRequest()).status, 401)
        let viewer = try cluster.key("acme", role: "viewer")
        XCTAssertEqual(try cluster.call(.POST, "/v2/models/scorer/infer", auth: "Bearer " + viewer, body: PlinthCluster.logregRequest()).status, 403)
        let scoped = try cluster.key("acme", role: "invoker", deployments: ["other"])
        XCTAssertEqual(try cluster.call(.POST, "/v2/models/scorer/infer", auth: "Bearer " + scoped, body: PlinthCluster.logregRequest()).status, 404)
        // Bad tensors are the caller's error, not a crash of the replica.
        let bad = try cluster.call(.POST, "/v2/models/scorer/infer", auth: "Bearer " + acme, body: Array(#"{"inputs":[{"name":"X","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#.utf8))
        XCTAssertEqual(bad.status, 400, String(decoding: bad.body, as: UTF8.self))
        XCTAssertEqual(try cluster.call(.POST, "/v2/models/scorer/infer", auth: "Bearer " + acme, body: PlinthCluster.logregRequest()).status, 200)

        // Metered: two successful acme calls (and acme's 400), nothing for globex.
        let totals = try waitForUsage(tenant: "acme") { $0.succeeded >= 2 }
        XCTAssertEqual(totals.succeeded, 2)
        // The bad tensor (400) reached the deployment and is metered; calls refused before routing
        // (viewer 403, out-of-scope 404) are not billable.
        XCTAssertEqual(totals.clientErrors, 1)
        XCTAssertEqual(try usageTotals(tenant: "globex").requests, 0)
    }

    /// Reads the per-minute usage rows from the server's SQLite file (WAL allows a concurrent reader).
    func usageTotals(tenant: String) throws -> (requests: Int, succeeded: Int, clientErrors: Int) {
        let store = try Store(path: cluster.dataDirectory + "/plinth.db", readers: 1)
        defer { store.close() }
        return try store.read { db in
            let row = try db.queryOne(
                "SELECT COALESCE(SUM(requests),0) r, COALESCE(SUM(succeeded),0) s, COALESCE(SUM(client_errors),0) c FROM usage_minutes WHERE tenant = ? AND shadow = 0",
                tenant)
            return (try row?.int("r") ?? 0, try row?.int("s") ?? 0, try row?.int("c") ?? 0)
        }
    }

    func waitForUsage(
        tenant: String, timeout: TimeInterval = 30,
        until done: ((requests: Int, succeeded: Int, clientErrors: Int)) -> Bool
    ) throws -> (requests: Int, succeeded: Int, clientErrors: Int) {
        let deadline = Date().addingTimeInterval(timeout)
        var totals = try usageTotals(tenant: tenant)
        while !done(totals) && Date() < deadline {
            usleep(200_000)
            totals = try usageTotals(tenant: tenant)
        }
        usleep(1_500_000)  // one more fold interval: nothing further may arrive
        return try usageTotals(tenant: tenant)
    }
}
