import Foundation
import PlinthHTTP
import XCTest

@testable import PlinthGateway

final class GatewayAuthTests: XCTestCase {
    var harness: GatewayHarness!

    override func setUpWithError() throws {
        harness = try GatewayHarness()
        let runtime = try harness.runtime("auth-rt")
        harness.deploy("iris", versions: [("v1", 100, [runtime])])
    }

    override func tearDown() {
        harness.stop()
    }

    func testAuthFailuresMapToStatusTable() {
        var viewer = GatewayHarness.tenantA
        viewer.role = "viewer"
        viewer.keyID = "cccc0003"
        harness.directory.addKey(id: "cccc0003", secret: "view", viewer)
        harness.directory.addKey(id: "dddd0004", secret: "susp", GatewayHarness.tenantA)
        harness.directory.failKey(id: "dddd0004", with: .suspended)
        harness.directory.addKey(id: "eeee0005", secret: "thr", GatewayHarness.tenantA)
        harness.directory.failKey(id: "eeee0005", with: .throttled(retryAfter: 7))
        harness.directory.addKey(id: "ffff0006", secret: "forb", GatewayHarness.tenantA)
        harness.directory.failKey(id: "ffff0006", with: .forbidden("role may not invoke"))

        let cases: [(name: String, headers: [(String, String)], status: Int)] = [
            ("no credential", [], 401),
            ("unknown key", [("Authorization", "Bearer plk_nobody_x")], 401),
            ("wrong secret", [("Authorization", "Bearer plk_aaaa0001_wrong")], 401),
            ("malformed scheme", [("Authorization", "Token abc")], 401),
            ("empty bearer", [("Authorization", "Bearer ")], 401),
            ("bad basic", [("Authorization", "Basic !!!")], 401),
            ("unknown jwt", [("Authorization", "Bearer eyJhbGciOi.x.y")], 401),
            ("viewer", [("Authorization", "Bearer plk_cccc0003_view")], 403),
            ("suspended", [("Authorization", "Bearer plk_dddd0004_susp")], 403),
            ("forbidden", [("X-API-Key", "plk_ffff0006_forb")], 403),
            ("throttled", [("Authorization", "Bearer plk_eeee0005_thr")], 429),
            ("valid header", [("Authorization", "Bearer plk_aaaa0001_secretA")], 200),
            ("valid x-api-key", [("X-API-Key", "plk_aaaa0001_secretA")], 200),
        ]
        for c in cases {
            let response = harness.post("/v2/models/iris/infer", key: nil, headers: c.headers)
            XCTAssertEqual(response.status, c.status, "\(c.name): \(response.text)")
            if c.status == 401 {
                XCTAssertNotNil(response.headers["WWW-Authenticate"], c.name)
            }
            if c.name == "throttled" {
                XCTAssertEqual(response.headers["Retry-After"], "7")
            }
            if c.status != 200 {
                XCTAssertTrue(response.text.contains("\"error\""), c.name)
            }
        }
    }

    func testViewerMayReadMetadataButNotInvoke() {
        var viewer = GatewayHarness.tenantA
        viewer.role = "viewer"
        harness.directory.addKey(id: "cccc0003", secret: "view", viewer)
        XCTAssertEqual(harness.get("/v2/models/iris/ready", key: "plk_cccc0003_view").status, 200)
        XCTAssertEqual(harness.post("/v2/models/iris/infer", key: "plk_cccc0003_view").status, 403)
    }

    func testBearerTokenPrincipalIsAccepted() {
        harness.directory.addToken("header.payload.sig", GatewayHarness.tenantA)
        let response = harness.post("/v2/models/iris/infer", key: "header.payload.sig")
        XCTAssertEqual(response.status, 200, response.text)
    }

    func testOtherTenantsDeploymentOfSameNameIsNotFound() throws {
        let runtimeB = try harness.runtime("tenant-b-rt")
        harness.deploy("shared", tenant: "ten-b", versions: [("v1", 100, [runtimeB])])
        // Tenant A has no "shared": 404, and B's runtime never sees the request.
        let fromA = harness.post("/v2/models/shared/infer", key: GatewayHarness.keyA)
        XCTAssertEqual(fromA.status, 404)
        XCTAssertEqual(runtimeB.servedCount, 0)
        // Both tenants own a "shared": each reaches only its own runtime.
        let runtimeA = try harness.runtime("tenant-a-rt")
        harness.deploy("shared", tenant: "ten-a", versions: [("v1", 100, [runtimeA])])
        XCTAssertEqual(harness.post("/v2/models/shared/infer", key: GatewayHarness.keyA).status, 200)
        XCTAssertEqual(runtimeA.servedCount, 1)
        XCTAssertEqual(harness.post("/v2/models/shared/infer", key: GatewayHarness.keyB).status, 200)
        XCTAssertEqual(runtimeB.servedCount, 1)
        XCTAssertEqual(runtimeA.servedCount, 1)
        // Metadata and readiness do not reveal it either.
        XCTAssertEqual(harness.get("/v2/models/iris", key: GatewayHarness.keyB).status, 404)
        XCTAssertEqual(harness.get("/v2/models/iris/ready", key: GatewayHarness.keyB).status, 404)
    }

    func testScopedKeyGetsNotFoundOutsideItsScope() throws {
        let other = try harness.runtime("scoped-other")
        harness.deploy("other", versions: [("v1", 100, [other])])
        var scoped = GatewayHarness.tenantA
        scoped.keyID = "abab0007"
        scoped.deploymentScope = ["iris"]
        harness.directory.addKey(id: "abab0007", secret: "s", scoped)
        XCTAssertEqual(harness.post("/v2/models/iris/infer", key: "plk_abab0007_s").status, 200)
        let outside = harness.post("/v2/models/other/infer", key: "plk_abab0007_s")
        XCTAssertEqual(outside.status, 404)
        // Same answer as for a name the tenant does not have at all.
        XCTAssertEqual(outside.text, #"{"error":"deployment 'other' not found"}"#)
        XCTAssertEqual(harness.post("/v2/models/other/infer", key: GatewayHarness.keyB).text, outside.text)
        XCTAssertEqual(other.servedCount, 0)
    }

    func testResolvedCredentialIsCachedBriefly() {
        let before = harness.directory.authCalls
        for _ in 0..<5 { XCTAssertEqual(harness.post("/v2/models/iris/infer").status, 200) }
        XCTAssertEqual(harness.directory.authCalls - before, 1)
    }

    func testRevokedKeyIsRejectedWithinOneSecond() {
        XCTAssertEqual(harness.post("/v2/models/iris/infer").status, 200)
        harness.directory.failKey(id: "aaaa0001", with: .invalid)
        XCTAssertTrue(eventually(timeout: 3) { harness.post("/v2/models/iris/infer").status == 401 })
    }

    func testCredentialParsing() throws {
        func parse(_ name: String, _ value: String) throws -> GatewayCredential? {
            var headers = HTTPHeaders()
            headers.add(name, value)
            return try GatewayCredential.parse(headers)
        }
        XCTAssertEqual(
            try parse("Authorization", "Bearer plk_0123abcd_s3cr_et-x"), .apiKey(id: "0123abcd", secret: "s3cr_et-x"))
        XCTAssertEqual(try parse("authorization", "bearer  plk_0123abcd_def "), .apiKey(id: "0123abcd", secret: "def"))
        XCTAssertEqual(try parse("X-API-Key", "plk_deadbeef99_zz"), .apiKey(id: "deadbeef99", secret: "zz"))
        XCTAssertEqual(try parse("Authorization", "Bearer a.b.c"), .bearer(token: "a.b.c"))
        let basic = Data("alice:pa:ss".utf8).base64EncodedString()
        XCTAssertEqual(try parse("Authorization", "Basic " + basic), .basic(user: "alice", password: "pa:ss"))
        XCTAssertNil(try GatewayCredential.parse(HTTPHeaders()))
        for bad in [
            "Bearer plk_", "Bearer plk__x", "Bearer plk_0123abcd_", "Bearer plk_short_x", "Bearer plk_0123ABCD_x",
            "Basic Og==", "Digest x", "Bearer",
        ] {
            XCTAssertThrowsError(try parse("Authorization", bad), bad)
        }
        XCTAssertThrowsError(try parse("X-API-Key", "not-a-key"))
        XCTAssertThrowsError(try parse("Authorization", "Bearer " + String(repeating: "a", count: 9000)))
    }
}
