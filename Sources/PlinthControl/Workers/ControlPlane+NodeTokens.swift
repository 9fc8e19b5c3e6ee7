import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import PlinthStore

/// A node token as listed (never the secret).
struct NodeTokenView: Codable, Sendable {
    var id: String
    var name: String
    var createdBy: String
    var createdAt: Date
    var revokedAt: Date?
    var lastUsedAt: Date?
}

/// POST /v1/workers/tokens answer: the only time the secret is shown.
struct CreatedNodeToken: Codable, Sendable {
    var token: String
    var nodeToken: NodeTokenView
}

struct CreateNodeTokenRequest: Codable, Sendable {
    var name: String?
}

extension ControlPlane {
    func nodeTokenRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/workers/tokens", id: "listNodeTokens", "Node tokens (no secrets).", tag: "workers",
                access: .admin, response: "NodeTokenPage", query: ["limit", "cursor"]
            ) { [self] context in try listNodeTokens(context) },
            RouteDefinition(
                .POST, "/v1/workers/tokens", id: "createNodeToken",
                "Issue a node token for worker agents; the secret is in this answer only.", tag: "workers",
                access: .admin, request: "CreateNodeTokenRequest", status: 201, response: "CreatedNodeToken"
            ) { [self] context in try createNodeToken(context) },
            RouteDefinition(
                .DELETE, "/v1/workers/tokens/{token}", id: "revokeNodeToken",
                "Revoke a node token; its workers are refused from the next request.", tag: "workers",
                access: .admin, status: 204
            ) { [self] context in try revokeNodeToken(context) },
        ]
    }

    private func listNodeTokens(_ context: RequestContext) throws -> HTTPResponse {
        let list = try ListQuery(context.request, labelled: false)
        var args: [any SQLBindable] = []
        var condition = "1 = 1"
        if let after = list.after {
            condition = "id > ?"
            args.append(after)
        }
        args.append(list.limit)
        let rows = try store.read { db in
            try db.query("SELECT * FROM node_tokens WHERE \(condition) ORDER BY id LIMIT ?", args)
        }
        return .json(list.page(try rows.map(Self.nodeTokenView(from:))) { $0.id })
    }

    private func createNodeToken(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try context.caller()
        let body =
            context.request.body.isEmpty
            ? CreateNodeTokenRequest(name: nil) : try context.request.decodeJSON(CreateNodeTokenRequest.self)
        if let name = body.name, name.utf8.count > 128 {
            throw ControlError.invalid(field: "name", message: "at most 128 bytes")
        }
        let token = NodeToken(id: Hex.encode(SecureRandom.bytes(8)), secret: SecureRandom.token(32))
        try store.write { db in
            try db.execute(
                "INSERT INTO node_tokens (id, name, secret_sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                token.id, body.name ?? "", SHA256.hash(token.secret), caller.name, Authenticator.now())
        }
        guard let row = try store.read({ db in try db.queryOne("SELECT * FROM node_tokens WHERE id = ?", token.id) })
        else { throw ControlError.notFound("node token not found") }
        return .json(CreatedNodeToken(token: token.rendered, nodeToken: try Self.nodeTokenView(from: row)), status: 201)
    }

    private func revokeNodeToken(_ context: RequestContext) throws -> HTTPResponse {
        let id = try context.parameter("token")
        try store.write { db in
            guard try db.queryOne("SELECT id FROM node_tokens WHERE id = ?", id) != nil else {
                throw ControlError.notFound("node token not found")
            }
            try db.execute(
                "UPDATE node_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Authenticator.now(), id)
        }
        return HTTPResponse(status: 204)
    }

    private static func nodeTokenView(from row: Row) throws -> NodeTokenView {
        func date(_ column: String) -> Date? {
            row.optionalInt64(column).map { Date(timeIntervalSince1970: Double($0)) }
        }
        return NodeTokenView(
            id: try row.string("id"), name: try row.string("name"), createdBy: try row.string("created_by"),
            createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at"))), revokedAt: date("revoked_at"),
            lastUsedAt: date("last_used_at"))
    }

    /// The id of the valid node token `request` carries as `Authorization: Bearer pln_…`.
    /// Anything else — no credential, an API key, a JWT, Basic, a revoked or wrong token — is 401.
    func authenticateNode(_ request: HTTPRequest) throws -> String {
        guard request.headers["X-API-Key"] == nil, let authorization = request.headers["Authorization"] else {
            throw ControlError.unauthenticated("node token required (Authorization: Bearer pln_…)")
        }
        let trimmed = authorization.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bearer "),
            let token = NodeToken(parsing: trimmed.dropFirst(7).trimmingCharacters(in: .whitespaces))
        else { throw ControlError.unauthenticated("node token required (Authorization: Bearer pln_…)") }
        let row = try store.read { db in
            try db.queryOne("SELECT secret_sha256, revoked_at, last_used_at FROM node_tokens WHERE id = ?", token.id)
        }
        guard let row, row.optionalInt64("revoked_at") == nil,
            constantTimeEquals(SHA256.hash(token.secret), try row.blob("secret_sha256"))
        else { throw ControlError.unauthenticated("invalid or revoked node token") }
        // last_used_at at minute granularity: at most one write per token per minute.
        let now = Authenticator.now()
        if now - (row.optionalInt64("last_used_at") ?? 0) >= 60 {
            try? store.write { db in
                try db.execute("UPDATE node_tokens SET last_used_at = ? WHERE id = ?", now, token.id)
            }
        }
        return token.id
    }

    func nodeTokenRevoked(_ id: String) throws -> Bool {
        try store.read { db in
            guard let row = try db.queryOne("SELECT revoked_at FROM node_tokens WHERE id = ?", id) else { return true }
            return row.optionalInt64("revoked_at") != nil
        }
    }
}
