import Foundation
import PlinthCrypto
import PlinthHTTP
import XCTest

/// Every route × every kind of caller, asserting the exact status of each cell.
final class AuthorizationMatrixTests: XCTestCase {
    /// The callers of the matrix. Own tenant is "acme"; the other tenant is "globex".
    enum Caller: String, CaseIterable {
        case admin, owner, developer, invoker, viewer
        case ownerJWT, viewerBasic
        case otherOwner, otherDeveloper, otherViewerJWT
        case none, expiredJWT, tamperedJWT, algNoneJWT, revokedKey, scopedKey

        /// The role this caller holds in acme, when it is an acme member.
        var ownRole: String? {
            switch self {
            case .owner, .ownerJWT: "owner"
            case .developer, .scopedKey: "developer"
            case .invoker: "invoker"
            case .viewer, .viewerBasic: "viewer"
            default: nil
            }
        }

        var isOtherTenant: Bool { self == .otherOwner || self == .otherDeveloper || self == .otherViewerJWT }
        var isInvalid: Bool { [.none, .expiredJWT, .tamperedJWT, .algNoneJWT, .revokedKey].contains(self) }
        var isUser: Bool { [.admin, .ownerJWT, .viewerBasic, .otherViewerJWT].contains(self) }
    }

    /// Who may call a route, written out independently of the implementation's table.
    enum Rule {
        case anonymous
        case anyone
        case admin
        /// Admins plus acme members in these roles; other tenants get 404, scoped keys 403.
        case tenant(Set<String>)
    }

    /// One row: the route, how to build a request for a cell, the success status and exceptions.
    struct Row {
        var method: HTTPMethod
        var pattern: String
        var rule: Rule
        var success: Int
        /// Exact statuses for callers that differ from the rule.
        var overrides: [Caller: Int] = [:]
        /// Creates what the cell needs and returns (path, query, json body, raw body).
        var prepare: (ControlHarness) throws -> (String, String, Any?, [UInt8]?)
    }

    static let builders: Set<String> = ["owner", "developer"]
    static let readers: Set<String> = ["owner", "developer", "viewer"]
    static let owners: Set<String> = ["owner"]

    func rows() -> [Row] {
        let t = "/v1/tenants/acme"
        let spec: [String: Any] = [
            "versions": [["model": "base", "version": "1", "weight": 100]], "instanceClass": "cpu-small",
            "minReplicas": 0, "maxReplicas": 1,
        ]
        return [
            // auth
            Row(
                method: .POST, pattern: "/v1/auth/token", rule: .anyone, success: 200,
                overrides: [
                    .admin: 401, .owner: 401, .developer: 401, .invoker: 401, .viewer: 401, .ownerJWT: 401,
                    .otherOwner: 401, .otherDeveloper: 401, .otherViewerJWT: 401, .scopedKey: 401,
                ]
            ) { _ in ("/v1/auth/token", "", nil, nil) },
            Row(method: .GET, pattern: "/v1/auth/whoami", rule: .anyone, success: 200) { _ in
                ("/v1/auth/whoami", "", nil, nil)
            },
            // A wrong current password (users) or no password at all (keys) → 403.
            Row(method: .POST, pattern: "/v1/auth/password", rule: .anyone, success: 403) { _ in
                ("/v1/auth/password", "", ["currentPassword": "wrong-password", "newPassword": "whatever-123"], nil)
            },
            // tenants
            Row(
                method: .GET, pattern: "/v1/tenants", rule: .anyone, success: 200,
                overrides: [.invoker: 403, .scopedKey: 403]
            ) { _ in ("/v1/tenants", "", nil, nil) },
            Row(method: .POST, pattern: "/v1/tenants", rule: .admin, success: 201) { h in
                ("/v1/tenants", "", ["name": h.unique("new")], nil)
            },
            Row(method: .GET, pattern: "/v1/tenants/{tenant}", rule: .tenant(Self.readers), success: 200) { _ in
                (t, "", nil, nil)
            },
            Row(method: .PATCH, pattern: "/v1/tenants/{tenant}", rule: .admin, success: 200) { _ in
                (t, "", ["displayName": "Acme Corp"], nil)
            },
            Row(method: .POST, pattern: "/v1/tenants/{tenant}/suspend", rule: .admin, success: 200) { h in
                let name = h.unique("sus")
                h.createTenant(name)
                return ("/v1/tenants/\(name)/suspend", "", nil, nil)
            },
            Row(method: .POST, pattern: "/v1/tenants/{tenant}/resume", rule: .admin, success: 200) { _ in
                ("\(t)/resume", "", nil, nil)
            },
            Row(method: .DELETE, pattern: "/v1/tenants/{tenant}", rule: .admin, success: 204) { h in
                let name = h.unique("gone")
                h.createTenant(name)
                return ("/v1/tenants/\(name)", "", nil, nil)
            },
            // users
            Row(method: .GET, pattern: "/v1/tenants/{tenant}/users", rule: .tenant(Self.owners), success: 200) { _ in
                ("\(t)/users", "", nil, nil)
            },
            Row(method: .POST, pattern: "/v1/tenants/{tenant}/users", rule: .tenant(Self.owners), success: 201) { h in
                ("\(t)/users", "", ["username": h.unique("user"), "password": "password-123", "role": "viewer"], nil)
            },
            Row(method: .GET, pattern: "/v1/tenants/{tenant}/users/{user}", rule: .tenant(Self.owners), success: 200) {
                _ in
                ("\(t)/users/acme-viewer", "", nil, nil)
            },
            Row(method: .PATCH, pattern: "/v1/tenants/{tenant}/users/{user}", rule: .tenant(Self.owners), success: 200)
            { h in
                let name = h.unique("puser")
                h.createUser(tenant: "acme", username: name, password: "password-123", role: "developer")
                return ("\(t)/users/\(name)", "", ["role": "viewer"], nil)
            },
            Row(method: .DELETE, pattern: "/v1/tenants/{tenant}/users/{user}", rule: .tenant(Self.owners), success: 204)
            { h in
                let name = h.unique("duser")
                h.createUser(tenant: "acme", username: name, password: "password-123", role: "viewer")
                return ("\(t)/users/\(name)", "", nil, nil)
            },
            Row(
                method: .POST, pattern: "/v1/tenants/{tenant}/users/{user}/password", rule: .tenant(Self.owners),
                success: 204
            ) { h in
                let name = h.unique("ruser")
                h.createUser(tenant: "acme", username: name, password: "password-123", role: "viewer")
                return ("\(t)/users/\(name)/password", "", ["password": "password-456"], nil)
            },
            Row(method: .GET, pattern: "/v1/admins", rule: .admin, success: 200) { _ in ("/v1/admins", "", nil, nil) },
            Row(method: .POST, pattern: "/v1/admins", rule: .admin, success: 201) { h in
                ("/v1/admins", "", ["username": h.unique("adm"), "password": "password-123"], nil)
            },
            Row(method: .DELETE, pattern: "/v1/admins/{user}", rule: .admin, success: 204) { h in
                let name = h.unique("dadm")
                h.expect(201, .POST, "/v1/admins", json: ["username": name, "password": "password-123"])
                return ("/v1/admins/\(name)", "", nil, nil)
            },
            Row(method: .POST, pattern: "/v1/admins/{user}/password", rule: .admin, success: 204) { h in
                let name = h.unique("radm")
                h.expect(201, .POST, "/v1/admins", json: ["username": name, "password": "password-123"])
                return ("/v1/admins/\(name)/password", "", ["password": "password-456"], nil)
            },
            // keys
            Row(method: .GET, pattern: "/v1/tenants/{tenant}/keys", rule: .tenant(Self.builders), success: 200) { _ in
                ("\(t)/keys", "", nil, nil)
            },
            Row(method: .POST, pattern: "/v1/tenants/{tenant}/keys", rule: .tenant(Self.builders), success: 201) { _ in
                ("\(t)/keys", "", ["role": "viewer"], nil)
            },
            Row(method: .GET, pattern: "/v1/tenants/{tenant}/keys/{key}", rule: .tenant(Self.builders), success: 200) {
                h in
                let key = try h.createKey(tenant: "acme", role: "viewer")
                return ("\(t)/keys/\(Self.keyID(key))", "", nil, nil)
            },
            Row(method: .DELETE, pattern: "/v1/tenants/{tenant}/keys/{key}", rule: .tenant(Self.builders), success: 204)
            { h in
                let key = try h.createKey(tenant: "acme", role: "viewer")
                return ("\(t)/keys/\(Self.keyID(key))", "", nil, nil)
            },
            // models
            Row(method: .GET, pattern: "/v1/tenants/{tenant}/models", rule: .tenant(Self.readers), success: 200) { _ in
                ("\(t)/models", "", nil, nil)
            },
            Row(method: .POST, pattern: "/v1/tenants/{tenant}/models", rule: .tenant(Self.builders), success: 201) {
                h in
                ("\(t)/models", "", ["name": h.unique("model"), "format": "onnx"], nil)
            },
            Row(method: .GET, pattern: "/v1/tenants/{tenant}/models/{model}", rule: .tenant(Self.readers), success: 200)
            { _ in
                ("\(t)/models/base", "", nil, nil)
            },
            Row(
                method: .PATCH, pattern: "/v1/tenants/{tenant}/models/{model}", rule: .tenant(Self.builders),
                success: 200
            ) { _ in
                ("\(t)/models/base", "", ["description": "the base model"], nil)
            },
            Row(
                method: .DELETE, pattern: "/v1/tenants/{tenant}/models/{model}", rule: .tenant(Self.builders),
                success: 204
            ) { h in
                let name = h.unique("dmodel")
                h.createModel(tenant: "acme", name: name)
                return ("\(t)/models/\(name)", "", nil, nil)
            },
            Row(
                method: .GET, pattern: "/v1/tenants/{tenant}/models/{model}/versions", rule: .tenant(Self.readers),
                success: 200
            ) { _ in ("\(t)/models/base/versions", "", nil, nil) },
            Row(
                method: .GET, pattern: "/v1/tenants/{tenant}/models/{model}/versions/{version}",
                rule: .tenant(Self.readers), success: 200
            ) { _ in ("\(t)/models/base/versions/1", "", nil, nil) },
            Row(
                method: .PUT, pattern: "/v1/tenants/{tenant}/models/{model}/versions/{version}/artifact",
                rule: .tenant(Self.builders), success: 201
            ) { h in ("\(t)/models/base/versions/\(h.unique("v"))/artifact", "", nil, Array("bytes".utf8)) },
            Row(
                method: .PUT, pattern: "/v1/tenants/{tenant}/models/{model}/versions/{version}/runtime",
                rule: .tenant(Self.builders), success: 200
            ) { h in
                let name = h.unique("ext")
                h.createModel(tenant: "acme", name: name, format: "external")
                h.upload(tenant: "acme", model: name, version: "1")
                return ("\(t)/models/\(name)/versions/1/runtime", "", ["command": ["/bin/true"]], nil)
            },
            Row(
                method: .GET, pattern: "/v1/tenants/{tenant}/models/{model}/versions/{version}/artifact",
                rule: .tenant(Self.builders), success: 200
            ) { _ in ("\(t)/models/base/versions/1/artifact", "", nil, nil) },
            Row(
                method: .DELETE, pattern: "/v1/tenants/{tenant}/models/{model}/versions/{version}",
                rule: .tenant(Self.builders), success: 204
            ) { h in
                let version = h.unique("dv")
                h.upload(tenant: "acme", model: "base", version: version)
                return ("\(t)/models/base/versions/\(version)", "", nil, nil)
            },
            // instance classes
            Row(method: .GET, pattern: "/v1/instance-classes", rule: .anyone, success: 200) { _ in
                ("/v1/instance-classes", "", nil, nil)
            },
            Row(method: .GET, pattern: "/v1/instance-classes/{class}", rule: .anyone, success: 200) { _ in
                ("/v1/instance-classes/cpu-small", "", nil, nil)
            },
            Row(method: .PUT, pattern: "/v1/instance-classes/{class}", rule: .admin, success: 201) { h in
                ("/v1/instance-classes/\(h.unique("ic"))", "", ["vcpus": 2, "memoryBytes": 1 << 30], nil)
            },
            Row(method: .DELETE, pattern: "/v1/instance-classes/{class}", rule: .admin, success: 204) { h in
                let name = h.unique("dic")
                h.expect(201, .PUT, "/v1/instance-classes/\(name)", json: ["vcpus": 1, "memoryBytes": 1 << 30])
                return ("/v1/instance-classes/\(name)", "", nil, nil)
            },
            // deployments
            Row(method: .GET, pattern: "/v1/tenants/{tenant}/deployments", rule: .tenant(Self.readers), success: 200) {
                _ in
                ("\(t)/deployments", "", nil, nil)
            },
            Row(
                method: .GET, pattern: "/v1/tenants/{tenant}/deployments/{deployment}", rule: .tenant(Self.readers),
                success: 200
            ) { _ in ("\(t)/deployments/main", "", nil, nil) },
            Row(
                method: .PUT, pattern: "/v1/tenants/{tenant}/deployments/{deployment}", rule: .tenant(Self.builders),
                success: 201
            ) { h in ("\(t)/deployments/\(h.unique("dep"))", "", spec, nil) },
            Row(
                method: .DELETE, pattern: "/v1/tenants/{tenant}/deployments/{deployment}",
                rule: .tenant(Self.builders), success: 204
            ) { h in
                let name = h.unique("ddep")
                h.deploy(tenant: "acme", name: name, model: "base", version: "1")
                return ("\(t)/deployments/\(name)", "", nil, nil)
            },
            Row(
                method: .GET, pattern: "/v1/tenants/{tenant}/deployments/{deployment}/revisions",
                rule: .tenant(Self.readers), success: 200
            ) { _ in ("\(t)/deployments/main/revisions", "", nil, nil) },
            Row(
                method: .POST, pattern: "/v1/tenants/{tenant}/deployments/{deployment}/rollback",
                rule: .tenant(Self.builders), success: 200
            ) { _ in ("\(t)/deployments/main/rollback", "to=1", nil, nil) },
            Row(
                method: .GET, pattern: "/v1/tenants/{tenant}/deployments/{deployment}/status",
                rule: .tenant(Self.readers), success: 200
            ) { _ in ("\(t)/deployments/main/status", "", nil, nil) },
            Row(
                method: .GET, pattern: "/v1/tenants/{tenant}/deployments/{deployment}/payloads",
                rule: .tenant(Self.builders), success: 200
            ) { _ in ("\(t)/deployments/main/payloads", "", nil, nil) },
            Row(
                method: .GET, pattern: "/v1/tenants/{tenant}/deployments/{deployment}/logs",
                rule: .tenant(Self.readers), success: 200
            ) { _ in ("\(t)/deployments/main/logs", "lines=5", nil, nil) },
            // usage
            Row(method: .GET, pattern: "/v1/tenants/{tenant}/usage", rule: .tenant(Self.readers), success: 200) { _ in
                ("\(t)/usage", "", nil, nil)
            },
            // audit and meta
            Row(
                method: .GET, pattern: "/v1/audit", rule: .anyone, success: 200,
                overrides: [
                    .developer: 403, .invoker: 403, .viewer: 403, .viewerBasic: 403, .otherDeveloper: 403,
                    .otherViewerJWT: 403, .scopedKey: 403,
                ]
            ) { _ in ("/v1/audit", "", nil, nil) },
            Row(method: .GET, pattern: "/v1/openapi.json", rule: .anonymous, success: 200) { _ in
                ("/v1/openapi.json", "", nil, nil)
            },
            // workers: node tokens and the admin view are admin routes; the worker protocol takes a
            // node token only, so every tenant or admin credential gets 401 there.
            Row(method: .GET, pattern: "/v1/workers/tokens", rule: .admin, success: 200) { _ in
                ("/v1/workers/tokens", "", nil, nil)
            },
            Row(method: .POST, pattern: "/v1/workers/tokens", rule: .admin, success: 201) { h in
                ("/v1/workers/tokens", "", ["name": h.unique("node")], nil)
            },
            Row(method: .DELETE, pattern: "/v1/workers/tokens/{token}", rule: .admin, success: 204) { h in
                let token = h.expect(201, .POST, "/v1/workers/tokens", json: [:]).json["token"] as? String ?? ""
                return ("/v1/workers/tokens/\(token.split(separator: "_").dropFirst().first ?? "")", "", nil, nil)
            },
            Row(method: .GET, pattern: "/v1/workers", rule: .admin, success: 200) { _ in ("/v1/workers", "", nil, nil) },
            Row(method: .GET, pattern: "/v1/workers/{worker}", rule: .admin, success: 404) { _ in
                ("/v1/workers/no-such-node", "", nil, nil)
            },
            Row(method: .DELETE, pattern: "/v1/workers/{worker}", rule: .admin, success: 404) { _ in
                ("/v1/workers/no-such-node", "", nil, nil)
            },
            Row(method: .POST, pattern: "/v1/workers/register", rule: .anonymous, success: 401) { _ in
                ("/v1/workers/register", "", ["nodeName": "n"], nil)
            },
            Row(method: .POST, pattern: "/v1/workers/{worker}/heartbeat", rule: .anonymous, success: 401) { _ in
                ("/v1/workers/w_1/heartbeat", "", ["workerID": "w_1"], nil)
            },
            Row(method: .GET, pattern: "/v1/workers/artifacts/{sha256}", rule: .anonymous, success: 401) { _ in
                ("/v1/workers/artifacts/\(String(repeating: "a", count: 64))", "", nil, nil)
            },
        ]
    }

    static func keyID(_ key: String) -> String {
        String(key.dropFirst(4).prefix { $0 != "_" })
    }

    func expected(_ row: Row, _ caller: Caller) -> Int {
        if let status = row.overrides[caller] { return status }
        if case .anonymous = row.rule { return row.success }
        if caller.isInvalid { return 401 }
        switch row.rule {
        case .anonymous, .anyone:
            return row.success
        case .admin:
            return caller == .admin ? row.success : 403
        case .tenant(let roles):
            if caller == .admin { return row.success }
            if caller.isOtherTenant { return 404 }
            // The scoped key is limited to a deployment no route here names.
            if caller == .scopedKey { return 403 }
            guard let role = caller.ownRole else { return 401 }
            return roles.contains(role) ? row.success : 403
        }
    }

    func testEveryRouteAndCallerGetsTheExactStatus() throws {
        let h = try ControlHarness()
        h.createTenant("acme")
        h.createTenant("globex")
        h.createModel(tenant: "acme", name: "base")
        h.upload(tenant: "acme", model: "base", version: "1")
        h.deploy(tenant: "acme", name: "main", model: "base", version: "1")
        h.createUser(tenant: "acme", username: "acme-owner", password: "password-owner", role: "owner")
        h.createUser(tenant: "acme", username: "acme-viewer", password: "password-viewer", role: "viewer")
        h.createUser(tenant: "globex", username: "globex-viewer", password: "password-gviewer", role: "viewer")
        let revoked = try h.createKey(tenant: "acme", role: "owner")
        h.expect(204, .DELETE, "/v1/tenants/acme/keys/\(Self.keyID(revoked))")
        var headers: [Caller: HTTPHeaders] = [:]
        headers[.admin] = h.admin
        headers[.owner] = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "owner"))
        var developerKey = HTTPHeaders()
        developerKey.set("X-API-Key", try h.createKey(tenant: "acme", role: "developer"))
        headers[.developer] = developerKey
        headers[.invoker] = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "invoker"))
        headers[.viewer] = ControlHarness.bearer(try h.createKey(tenant: "acme", role: "viewer"))
        headers[.ownerJWT] = ControlHarness.bearer(try h.token(username: "acme-owner", password: "password-owner"))
        headers[.viewerBasic] = ControlHarness.basic("acme-viewer", "password-viewer")
        headers[.otherOwner] = ControlHarness.bearer(try h.createKey(tenant: "globex", role: "owner"))
        headers[.otherDeveloper] = ControlHarness.bearer(try h.createKey(tenant: "globex", role: "developer"))
        headers[.otherViewerJWT] = ControlHarness.bearer(
            try h.token(username: "globex-viewer", password: "password-gviewer"))
        headers[.none] = HTTPHeaders()
        let now = Int(Date().timeIntervalSince1970)
        let adminClaims: [String: JSONValue] = [
            "iss": .string("plinth"), "sub": .string("1"), "role": .string("admin"), "pv": .number(1),
            "iat": .number(Double(now - 7200)), "exp": .number(Double(now - 3600)),
        ]
        headers[.expiredJWT] = ControlHarness.bearer(try h.signToken(claims: adminClaims))
        var tampered = Array(h.adminToken)
        let last = tampered.count - 3
        tampered[last] = tampered[last] == "A" ? "B" : "A"
        headers[.tamperedJWT] = ControlHarness.bearer(String(tampered))
        let noneHeader = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(
            Array(#"{"iss":"plinth","sub":"1","role":"admin","pv":1,"exp":\#(now + 3600)}"#.utf8))
        headers[.algNoneJWT] = ControlHarness.bearer("\(noneHeader).\(payload).")
        headers[.revokedKey] = ControlHarness.bearer(revoked)
        headers[.scopedKey] = ControlHarness.bearer(
            try h.createKey(tenant: "acme", role: "developer", deployments: ["other-dep"]))

        var failures: [String] = []
        var cells = 0
        for row in rows() {
            for caller in Caller.allCases {
                let (path, query, json, body) = try row.prepare(h)
                let reply = h.send(
                    row.method, path, query: query, headers: headers[caller] ?? HTTPHeaders(), json: json, body: body)
                let want = expected(row, caller)
                cells += 1
                if reply.status != want {
                    failures.append(
                        "\(row.method) \(row.pattern) as \(caller): got \(reply.status), want \(want) — \(reply.text.prefix(160))"
                    )
                }
                if reply.status == 401, reply.headers["WWW-Authenticate"] == nil {
                    failures.append("\(row.method) \(row.pattern) as \(caller): 401 without WWW-Authenticate")
                }
            }
        }
        XCTAssertEqual(cells, rows().count * Caller.allCases.count)
        XCTAssertGreaterThan(cells, 700)
        print("authorization matrix: \(cells) cells, \(failures.count) wrong")
        XCTAssertTrue(
            failures.isEmpty, "\(failures.count) of \(cells) cells wrong:\n" + failures.joined(separator: "\n"))

        // The table must cover every registered route.
        let covered = Set(rows().map { "\($0.method) \($0.pattern)" })
        let registered = Set(h.router.routes.map { "\($0.method) \($0.pattern)" })
        XCTAssertEqual(registered.subtracting(covered), [], "routes missing from the matrix")
    }
}
