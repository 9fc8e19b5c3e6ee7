import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore

/// A user as the API shows it (never the hash).
struct UserView: Codable, Sendable {
    var username: String
    var tenant: String?
    var role: Role
    var createdAt: Date
    var updatedAt: Date
}

/// POST /v1/tenants/{tenant}/users and POST /v1/admins body.
struct CreateUserRequest: Codable, Sendable {
    var username: String
    var password: String
    var role: Role?
}

/// PATCH /v1/tenants/{tenant}/users/{user} body.
struct UpdateUserRequest: Codable, Sendable {
    var role: Role
}

/// POST .../users/{user}/password body (reset by an owner or admin).
struct ResetPasswordRequest: Codable, Sendable {
    var password: String
}

extension ControlPlane {
    func userRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/users", id: "listUsers", "Users of a tenant.", tag: "users",
                access: .tenant(Roles.owners), response: "UserPage", query: ["limit", "cursor"]
            ) { [self] context in try listUsers(context, tenant: try context.parameter("tenant")) },
            RouteDefinition(
                .POST, "/v1/tenants/{tenant}/users", id: "createUser",
                "Add a user to a tenant with a role no higher than the caller's.", tag: "users",
                access: .tenant(Roles.owners), request: "CreateUserRequest", status: 201, response: "User"
            ) { [self] context in try createUser(context, tenant: try context.parameter("tenant")) },
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/users/{user}", id: "getUser", "One user.", tag: "users",
                access: .tenant(Roles.owners), response: "User"
            ) { [self] context in
                .json(try userView(try context.parameter("user"), tenant: try context.parameter("tenant")))
            },
            RouteDefinition(
                .PATCH, "/v1/tenants/{tenant}/users/{user}", id: "updateUser", "Change a user's role.", tag: "users",
                access: .tenant(Roles.owners), request: "UpdateUserRequest", response: "User"
            ) { [self] context in try updateUser(context) },
            RouteDefinition(
                .DELETE, "/v1/tenants/{tenant}/users/{user}", id: "deleteUser", "Remove a user.", tag: "users",
                access: .tenant(Roles.owners), status: 204
            ) { [self] context in try deleteUser(context, tenant: try context.parameter("tenant")) },
            RouteDefinition(
                .POST, "/v1/tenants/{tenant}/users/{user}/password", id: "resetPassword",
                "Set a user's password (owner or admin); revokes the user's tokens.", tag: "users",
                access: .tenant(Roles.owners), request: "ResetPasswordRequest", status: 204
            ) { [self] context in try resetPassword(context, tenant: try context.parameter("tenant")) },
            RouteDefinition(
                .GET, "/v1/admins", id: "listAdmins", "Platform admins.", tag: "users", access: .admin,
                response: "UserPage", query: ["limit", "cursor"]
            ) { [self] context in try listUsers(context, tenant: nil) },
            RouteDefinition(
                .POST, "/v1/admins", id: "createAdmin", "Add a platform admin.", tag: "users", access: .admin,
                request: "CreateUserRequest", status: 201, response: "User"
            ) { [self] context in try createUser(context, tenant: nil) },
            RouteDefinition(
                .DELETE, "/v1/admins/{user}", id: "deleteAdmin", "Remove a platform admin (never the last one).",
                tag: "users", access: .admin, status: 204
            ) { [self] context in try deleteUser(context, tenant: nil) },
            RouteDefinition(
                .POST, "/v1/admins/{user}/password", id: "resetAdminPassword", "Set a platform admin's password.",
                tag: "users", access: .admin, request: "ResetPasswordRequest", status: 204
            ) { [self] context in try resetPassword(context, tenant: nil) },
        ]
    }

    private static func tenantCondition(_ tenant: String?) -> (String, [any SQLBindable]) {
        tenant.map { ("tenant = ?", [$0]) } ?? ("tenant IS NULL", [])
    }

    private func listUsers(_ context: RequestContext, tenant: String?) throws -> HTTPResponse {
        let list = try ListQuery(context.request, labelled: false)
        var (condition, args) = Self.tenantCondition(tenant)
        if let after = list.after {
            condition += " AND username > ?"
            args.append(after)
        }
        args.append(list.limit)
        let rows = try store.read { db in
            try db.query("SELECT * FROM users WHERE \(condition) ORDER BY username LIMIT ?", args)
        }
        return .json(list.page(try rows.map(Self.userView(from:))) { $0.username })
    }

    private func createUser(_ context: RequestContext, tenant: String?) throws -> HTTPResponse {
        let caller = try context.caller()
        let body = try context.request.decodeJSON(CreateUserRequest.self)
        guard Validation.isUsername(body.username) else {
            throw ControlError.invalid(field: "username", message: "1-64 of a-z, 0-9, '.', '_', '@', '-'")
        }
        try Validation.checkPassword(body.password)
        let role: Role
        if tenant == nil {
            role = .admin
        } else {
            guard let requested = body.role, requested != .admin else {
                throw ControlError.invalid(field: "role", message: "one of owner, developer, invoker, viewer")
            }
            guard caller.role.canGrant(requested) else {
                throw ControlError.forbidden("cannot grant role \(requested.rawValue)")
            }
            role = requested
        }
        let hash = authenticator.hasher.hash(body.password)
        let now = Authenticator.now()
        try store.write { db in
            if try db.queryOne("SELECT 1 AS one FROM users WHERE username = ?", body.username) != nil {
                throw ControlError.conflict("username \(body.username) is taken")
            }
            try db.execute(
                "INSERT INTO users (username, tenant, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                body.username, tenant, role.rawValue, hash, now, now)
        }
        return .json(try userView(body.username, tenant: tenant), status: 201)
    }

    private func updateUser(_ context: RequestContext) throws -> HTTPResponse {
        let caller = try context.caller()
        let tenant = try context.parameter("tenant")
        let username = try context.parameter("user")
        let body = try context.request.decodeJSON(UpdateUserRequest.self)
        guard body.role != .admin else {
            throw ControlError.invalid(field: "role", message: "tenant users cannot be admin")
        }
        guard caller.role.canGrant(body.role) else {
            throw ControlError.forbidden("cannot grant role \(body.role.rawValue)")
        }
        try store.write { db in
            try db.execute(
                "UPDATE users SET role = ?, updated_at = ? WHERE username = ? AND tenant = ?", body.role.rawValue,
                Authenticator.now(), username, tenant)
            guard db.changes > 0 else { throw ControlError.notFound("user not found") }
        }
        return .json(try userView(username, tenant: tenant))
    }

    private func deleteUser(_ context: RequestContext, tenant: String?) throws -> HTTPResponse {
        let username = try context.parameter("user")
        let (condition, args) = Self.tenantCondition(tenant)
        let id: Int64 = try store.write { db in
            guard
                let row = try db.queryOne("SELECT id FROM users WHERE username = ? AND \(condition)", [username] + args)
            else { throw ControlError.notFound("user not found") }
            if tenant == nil,
                try db.queryOne("SELECT COUNT(*) AS n FROM users WHERE tenant IS NULL")?.int("n") ?? 0 <= 1
            {
                throw ControlError.conflict("cannot delete the last platform admin")
            }
            let id = try row.int64("id")
            try db.execute("DELETE FROM users WHERE id = ?", id)
            return id
        }
        authenticator.basicCache.invalidate(userID: id)
        return HTTPResponse(status: 204)
    }

    private func resetPassword(_ context: RequestContext, tenant: String?) throws -> HTTPResponse {
        let username = try context.parameter("user")
        let body = try context.request.decodeJSON(ResetPasswordRequest.self)
        try Validation.checkPassword(body.password)
        let (condition, args) = Self.tenantCondition(tenant)
        guard
            let row = try store.read({ db in
                try db.queryOne("SELECT id FROM users WHERE username = ? AND \(condition)", [username] + args)
            })
        else { throw ControlError.notFound("user not found") }
        try setPassword(userID: try row.int64("id"), body.password)
        return HTTPResponse(status: 204)
    }

    private func userView(_ username: String, tenant: String?) throws -> UserView {
        let (condition, args) = Self.tenantCondition(tenant)
        guard
            let row = try store.read({ db in
                try db.queryOne("SELECT * FROM users WHERE username = ? AND \(condition)", [username] + args)
            })
        else { throw ControlError.notFound("user not found") }
        return try Self.userView(from: row)
    }

    private static func userView(from row: Row) throws -> UserView {
        guard let role = Role(rawValue: try row.string("role")) else { throw ControlError.conflict("corrupt role") }
        return UserView(
            username: try row.string("username"), tenant: row.optionalString("tenant"), role: role,
            createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at"))),
            updatedAt: Date(timeIntervalSince1970: Double(try row.int64("updated_at"))))
    }
}
