import Foundation
import PlinthControl
import PlinthHTTP
import XCTest

final class AuditAndOpenAPITests: XCTestCase {
    func testMutatingCallsAreAuditedWithActorTargetRequestIDAndOutcome() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createTenant("globex")
        let owner = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "owner"))
        let ownerID = try XCTUnwrap((h.expect(200, .GET, "/v1/auth/whoami", headers: owner).json["name"] as? String))
        var headers = owner
        headers.set("X-Request-Id", "req-audit-1")
        h.expect(201, .POST, "/v1/tenants/acme/models", headers: headers, json: ["name": "m", "format": "onnx"])
        h.expect(409, .POST, "/v1/tenants/acme/models", headers: owner, json: ["name": "m", "format": "onnx"])
        h.expect(201, .POST, "/v1/tenants/globex/models", json: ["name": "g", "format": "onnx"])

        let mine = h.expect(200, .GET, "/v1/audit", query: "action=createModel", headers: owner).json
        let items = mine["items"] as? [[String: Any]] ?? []
        XCTAssertEqual(items.count, 2)
        XCTAssertEqual(items.last?["actor"] as? String, ownerID)
        XCTAssertEqual(items.last?["outcome"] as? String, "success")
        XCTAssertEqual(items.last?["target"] as? String, "POST /v1/tenants/acme/models")
        XCTAssertEqual(items.first?["outcome"] as? String, "failed")
        XCTAssertEqual(items.first?["status"] as? Int, 409)
        XCTAssertTrue(items.allSatisfy { $0["tenant"] as? String == "acme" })
        // Owners never see another tenant's records.
        h.expect(404, .GET, "/v1/audit", query: "tenant=globex", headers: owner)
        let all = h.expect(200, .GET, "/v1/audit", query: "action=createModel").json["items"] as? [[String: Any]]
        XCTAssertEqual(all?.count, 3)
        // Pagination walks newest to oldest without repeats.
        var seen: [Int] = []
        var cursor: String?
        repeat {
            let page = h.expect(200, .GET, "/v1/audit", query: "limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")).json
            seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            cursor = page["nextCursor"] as? String
        } while cursor != nil
        XCTAssertEqual(seen, seen.sorted(by: >))
        XCTAssertEqual(Set(seen).count, seen.count)
        let request = try h.plane.store.read { db in
            try db.queryOne("SELECT request_id FROM audit_log WHERE request_id = 'req-audit-1'")
        }
        XCTAssertNotNil(request)
    }

    func testEveryRegisteredRouteIsInTheOpenAPIDocument() throws {
        let h = try ControlHarness()
        let reply = h.expect(200, .GET, "/v1/openapi.json", headers: HTTPHeaders())
        let document = reply.json
        XCTAssertEqual(document["openapi"] as? String, "3.1.0")
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        var missing: [String] = []
        for route in h.router.routes {
            let method = "\(route.method)".lowercased()
            if paths[route.pattern]?[method] == nil { missing.append("\(route.method) \(route.pattern)") }
        }
        XCTAssertEqual(missing, [])
        XCTAssertGreaterThan(h.router.routes.count, 40)
        // Schemas referenced by operations exist.
        let schemas = try XCTUnwrap((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let refs = reply.text.components(separatedBy: "#/components/schemas/").dropFirst().map {
            $0.prefix { $0 != "\"" }
        }
        for ref in Set(refs) { XCTAssertNotNil(schemas[String(ref)], "missing schema \(ref)") }
    }

    func testEveryRouteIsDocumentedInApiMarkdown() throws {
        let h = try ControlHarness()
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/api.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for route in h.router.routes {
            XCTAssertTrue(
                text.contains("`\(route.method) \(route.pattern)`"),
                "docs/api.md lacks \(route.method) \(route.pattern)")
        }
    }
}
