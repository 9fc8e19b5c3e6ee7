import Foundation
import PlinthCore
import PlinthHTTP
import PlinthStore

/// POST /v1/auth/token answer.
struct TokenResponse: Codable, Sendable {
    var token: String
    var tokenType: String
    var expiresAt: Date
    var expiresIn: Int
}

/// GET /v1/auth/whoami answer.
struct WhoAmI: Codable, Sendable {
    var name: String
    var tenant: String?
    var role: Role
    var credential: String
    var deployments: [String]?
}

/// POST /v1/auth/password body.
struct ChangePasswordRequest: Codable, Sendable {
    var currentPassword: String
    var newPassword: String
}

extension ControlPlane {
    func authRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .POST, "/v1/auth/token", id: "createToken",
                "Exchange HTTP Basic credentials for a short-lived HS256 bearer token.", tag: "auth",
                access: .authenticated, response: "Token"
            ) { [self] context in try createToken(context) },
            RouteDefinition(
                .GET, "/v1/auth/whoami", id: "whoAmI", "The authenticated caller.", tag: "auth",
                access: .authenticated, response: "WhoAmI"
            ) { context in
                let p = try context.caller()
                let credential: String
                switch p.credential {
                case .password: credential = "basic"
                case .token: credential = "token"
                case .apiKey: credential = "apiKey"
                }
                return .json(
                    WhoAmI(
                        name: p.name, tenant: p.tenant, role: p.role, credential: credential, deployments: p.deployments
                    ))
            },
            RouteDefinition(
                .POST, "/v1/auth/password", id: "changePassword",
                "Change the caller's own password (revokes its tokens).", tag: "auth", access: .authenticated,
                request: "ChangePasswordRequest", status: 204
            ) { [self] context in try changePassword(context) },
        ]
    }

    private func createToken(_ context: RequestContext) throws -> HTTPResponse {
        let principal = try context.caller()
        guard principal.credential == .password, let id = principal.userID,
            let user = try currentState().identity.usersByID[id]
        else { throw ControlError.unauthenticated("a token is issued for HTTP Basic credentials only") }
        let issued = authenticator.issueToken(for: principal, passwordVersion: user.passwordVersion)
        return .json(
            TokenResponse(
                token: issued.token, tokenType: "Bearer",
                expiresAt: Date(timeIntervalSince1970: Double(issued.expiresAt)),
                expiresIn: Int(issued.expiresAt - Authenticator.now())))
    }

    private func changePassword(_ context: RequestContext) throws -> HTTPResponse {
        let principal = try context.caller()
        guard let id = principal.userID, let user = try currentState().identity.usersByID[id] else {
            throw ControlError.forbidden("API keys have no password")
        }
        let body = try context.request.decodeJSON(ChangePasswordRequest.self)
        let address = Authenticator.host(of: context.request.remoteAddress)
        if let wait = authenticator.throttle.retryAfter(username: user.username, address: address) {
            throw ControlError.throttled(retryAfterSeconds: wait)
        }
        guard authenticator.hasher.verify(body.currentPassword, against: user.passwordHash) else {
            authenticator.throttle.recordFailure(username: user.username, address: address)
            throw ControlError.forbidden("current password is wrong")
        }
        try Validation.checkPassword(body.newPassword, field: "newPassword")
        try setPassword(userID: id, body.newPassword)
        return HTTPResponse(status: 204)
    }

    /// Stores a new hash and bumps the password version, which voids cached Basic credentials and
    /// every token issued before.
    func setPassword(userID: Int64, _ password: String) throws {
        let hash = authenticator.hasher.hash(password)
        try store.write { db in
            try db.execute(
                """
                UPDATE users SET password_hash = ?, password_version = password_version + 1, updated_at = ?
                WHERE id = ?
                """, hash, Authenticator.now(), userID)
        }
        authenticator.basicCache.invalidate(userID: userID)
    }
}
