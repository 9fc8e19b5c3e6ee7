import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import PlinthStore

/// An API key as listed (never the secret).
struct APIKeyView: Codable, Sendable {
    var id: String
    var name: String
    var tenant: String
    var role: Role
    var deployments: [String]?
    var createdBy: String
    var createdAt: Date
    var expiresAt: Date?
    var revokedAt: Date?
    var lastUsedAt: Date?
}

/// POST /v1/tenants/{tenant}/keys answer: the only time the secret is shown.
struct CreatedAPIKey: Codable, Sendable {
    var key: String
    var apiKey: APIKeyView
}

/// POST /v1/tenants/{tenant}/keys body. Expiry as RFC 3339 `expiresAt` or `expiresInSeconds`.
struct CreateAPIKeyRequest: Codable, Sendable {
    var name: String?
    var role: Role
    var deployments: [String]?
    var expiresAt: String?
    var expiresInSeconds: Int?
}

extension ControlPlane {
    func keyRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/keys", id: "listKeys", "API keys of a tenant (no secrets).", tag: "keys",
                access: .tenant(Roles.keyManagers), response: "APIKeyPage", query: ["limit", "cursor"]
            ) { [self] context in try listKeys(context) },
            RouteDefinition(
                .POST, "/v1/tenants/{tenant}/keys", id: "createKey",
                "Create an API key; the secret is in this answer only.", tag: "keys",
                access: .tenant(Roles.keyManagers), request: "CreateAPIKeyRequest", status: 201,
                response: "CreatedAPIKey"
            ) { [self] context in try createKey(context) },
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/keys/{key}", id: "getKey", "One API key (no secret).", tag: "keys",
                access: .tenant(Roles.keyManagers), response: "APIKey"
            ) { [self] context in
                .json(try keyView(try context.parameter("key"), tenant: try context.parameter("tenant")))
            },
            RouteDefinition(
                .DELETE, "/v1/tenants/{tenant}/keys/{key}", id: "revokeKey", "Revoke an API key, effective at once.",
                tag: "keys", access: .tenant(Roles.keyManagers), status: 204
            ) { [self] context in try revokeKey(context) },
        ]
    }

    private func listKeys(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let list = try ListQuery(context.request, labelled: false)
        var args: [any SQLBindable] = [tenant]
        var condition = "tenant = ?"
        if let after = list.after {
            condition += " AND id > ?"
            args.append(after)
        }
        args.append(list.limit)
        let rows = try store.read { db in
            try db.query("SELECT * FROM api_keys WHERE \(condition) ORDER BY id LIMIT ?", args)
        }
        return .json(list.page(try rows.map(Self.keyView(from:))) { $0.id })
    }

    private func createKey(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try context.caller()
        let tenant = try context.parameter("tenant")
        let body = try context.request.decodeJSON(CreateAPIKeyRequest.self)
        guard body.role != .admin else {
            throw ControlError.invalid(field: "role", message: "API keys belong to a tenant; admin is not allowed")
        }
        guard caller.role.canGrant(body.role) else {
            throw ControlError.forbidden("cannot create a key with role \(body.role.rawValue)")
        }
        if let name = body.name, name.utf8.count > 128 {
            throw ControlError.invalid(field: "name", message: "at most 128 bytes")
        }
        if let deployments = body.deployments {
            guard !deployments.isEmpty, deployments.count <= 64 else {
                throw ControlError.invalid(field: "deployments", message: "1 to 64 deployment names, or omit it")
            }
            for (i, name) in deployments.enumerated() where !Validation.isDNSLabel(name) {
                throw ControlError.invalid(field: "deployments[\(i)]", message: "not a deployment name")
            }
        }
        // A key created by a deployment-limited key cannot widen that limit.
        if let scope = caller.deployments {
            guard let wanted = body.deployments, Set(wanted).isSubset(of: Set(scope)) else {
                throw ControlError.forbidden("key may not exceed the creating key's deployments")
            }
        }
        let now = Authenticator.now()
        var expiresAt: Int64?
        if let raw = body.expiresAt {
            guard let parsed = ISO8601DateFormatter().date(from: raw) else {
                throw ControlError.invalid(field: "expiresAt", message: "must be an RFC 3339 time")
            }
            expiresAt = Int64(parsed.timeIntervalSince1970)
        } else if let seconds = body.expiresInSeconds {
            guard seconds > 0 else {
                throw ControlError.invalid(field: "expiresInSeconds", message: "must be positive")
            }
            expiresAt = now + Int64(min(seconds, 100 * 365 * 86_400))
        }
        if let expiresAt, expiresAt <= now {
            throw ControlError.invalid(field: "expiresAt", message: "must be in the future")
        }
        let token = APIKeyToken(id: Hex.encode(SecureRandom.bytes(8)), secret: SecureRandom.token(32))
        try store.write { db in
            try db.execute(
                """
                INSERT INTO api_keys (id, tenant, name, role, deployments, secret_sha256, created_by, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, token.id, tenant, body.name ?? "", body.role.rawValue, body.deployments.map(JSONColumn.encode),
                SHA256.hash(token.secret), caller.name, now, expiresAt)
        }
        return .json(CreatedAPIKey(key: token.rendered, apiKey: try keyView(token.id, tenant: tenant)), status: 201)
    }

    private func revokeKey(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try context.caller()
        let tenant = try context.parameter("tenant")
        let id = try context.parameter("key")
        try store.write { db in
            guard let row = try db.queryOne("SELECT role FROM api_keys WHERE id = ? AND tenant = ?", id, tenant) else {
                throw ControlError.notFound("API key not found")
            }
            if let role = Role(rawValue: try row.string("role")), !caller.role.canGrant(role) {
                throw ControlError.forbidden("cannot revoke a key with role \(role.rawValue)")
            }
            try db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Authenticator.now(), id)
        }
        return HTTPResponse(status: 204)
    }

    private func keyView(_ id: String, tenant: String) throws -> APIKeyView {
        guard
            let row = try store.read({ db in
                try db.queryOne("SELECT * FROM api_keys WHERE id = ? AND tenant = ?", id, tenant)
            })
        else { throw ControlError.notFound("API key not found") }
        return try Self.keyView(from: row)
    }

    private static func keyView(from row: Row) throws -> APIKeyView {
        func date(_ column: String) -> Date? {
            row.optionalInt64(column).map { Date(timeIntervalSince1970: Double($0)) }
        }
        guard let role = Role(rawValue: try row.string("role")) else { throw ControlError.conflict("corrupt role") }
        return APIKeyView(
            id: try row.string("id"), name: try row.string("name"), tenant: try row.string("tenant"), role: role,
            deployments: JSONColumn.decodeStringArray(row.optionalString("deployments")),
            createdBy: try row.string("created_by"),
            createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at"))), expiresAt: date("expires_at"),
            revokedAt: date("revoked_at"), lastUsedAt: date("last_used_at"))
    }
}
