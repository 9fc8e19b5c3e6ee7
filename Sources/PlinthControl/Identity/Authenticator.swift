import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import PlinthStore

/// Turns a request's credential (HTTP Basic, Bearer JWT, or API key) into a `Principal`.
/// Order of checks: throttle (before any hashing) → credential → tenant suspension.
final class Authenticator: Sendable {
    let store: Store
    let keyring: JWTKeyring
    let hasher: PasswordHasher
    let basicCache: BasicCredentialCache
    let throttle: LoginThrottle
    let keyUsage: KeyUsageRecorder
    let tokenLifetimeSeconds: Int

    init(store: Store, keyring: JWTKeyring, configuration: ControlPlaneConfiguration) {
        self.store = store
        self.keyring = keyring
        self.hasher = PasswordHasher(iterations: configuration.passwordIterations)
        self.basicCache = BasicCredentialCache(lifetime: configuration.basicCredentialCacheLifetime)
        self.throttle = LoginThrottle(
            maxPerUser: configuration.maxFailedLoginsPerUser, maxPerAddress: configuration.maxFailedLoginsPerAddress,
            lockout: configuration.loginLockout)
        self.keyUsage = KeyUsageRecorder(interval: configuration.keyUsageFlushInterval)
        self.tokenLifetimeSeconds = Int(configuration.tokenLifetime.components.seconds)
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// The caller of `request`, or a ControlError (401 unauthenticated, 403 suspended, 429 throttled).
    func authenticate(_ request: HTTPRequest) throws -> Principal {
        let principal: Principal
        if let key = request.headers["X-API-Key"] {
            principal = try authenticateAPIKey(key.trimmingCharacters(in: .whitespaces))
        } else if let authorization = request.headers["Authorization"] {
            let trimmed = authorization.trimmingCharacters(in: .whitespaces)
            guard let space = trimmed.firstIndex(of: " ") else {
                throw ControlError.unauthenticated("malformed Authorization header")
            }
            let scheme = trimmed[..<space].lowercased()
            let value = trimmed[space...].trimmingCharacters(in: .whitespaces)
            switch scheme {
            case "basic": principal = try authenticateBasic(value, address: Self.host(of: request.remoteAddress))
            case "bearer":
                principal = value.hasPrefix(APIKeyToken.prefix) ? try authenticateAPIKey(value) : try authenticateJWT(value)
            default: throw ControlError.unauthenticated("unsupported authorization scheme")
            }
        } else {
            throw ControlError.unauthenticated("credentials required")
        }
        if let tenant = principal.tenant, try isSuspended(tenant) {
            throw ControlError.forbidden("tenant is suspended")
        }
        return principal
    }

    private func isSuspended(_ tenant: String) throws -> Bool {
        try store.read { db in try db.queryOne("SELECT suspended FROM tenants WHERE name = ?", tenant)?.bool("suspended") }
            ?? true
    }

    /// "1.2.3.4:5678" → "1.2.3.4", "[::1]:80" → "::1".
    static func host(of address: String) -> String {
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<close])
        }
        if let colon = address.lastIndex(of: ":"), address.filter({ $0 == ":" }).count == 1 {
            return String(address[..<colon])
        }
        return address
    }

    // MARK: API keys

    func authenticateAPIKey(_ presented: String) throws -> Principal {
        guard let token = APIKeyToken(parsing: presented) else { throw ControlError.unauthenticated("invalid API key") }
        let row = try store.read { db in
            try db.queryOne(
                "SELECT tenant, role, deployments, secret_sha256, expires_at, revoked_at FROM api_keys WHERE id = ?",
                token.id)
        }
        // Hash even when the id is unknown so both paths cost the same.
        let presentedHash = SHA256.hash(token.secret)
        guard let row, constantTimeEquals(presentedHash, try row.blob("secret_sha256")) else {
            throw ControlError.unauthenticated("invalid API key")
        }
        if row.optionalInt64("revoked_at") != nil { throw ControlError.unauthenticated("API key revoked") }
        if let expires = row.optionalInt64("expires_at"), expires <= Self.now() {
            throw ControlError.unauthenticated("API key expired")
        }
        guard let role = Role(rawValue: try row.string("role")) else {
            throw ControlError.unauthenticated("invalid API key")
        }
        keyUsage.touch(token.id, store: store)
        return Principal(
            userID: nil, name: "key:\(token.id)", tenant: try row.string("tenant"), role: role,
            credential: .apiKey(id: token.id), deployments: JSONColumn.decodeStringArray(row.optionalString("deployments")))
    }

    // MARK: HTTP Basic

    func authenticateBasic(_ encoded: String, address: String) throws -> Principal {
        guard encoded.utf8.count <= 1024, let raw = Data(base64Encoded: encoded),
            let decoded = String(data: raw, encoding: .utf8), let colon = decoded.firstIndex(of: ":")
        else { throw ControlError.unauthenticated("malformed Basic credentials") }
        let username = String(decoded[..<colon])
        let password = String(decoded[decoded.index(after: colon)...])
        let cacheKey = SHA256.hash("Basic " + encoded)
        if let cached = basicCache.lookup(cacheKey), let user = try loadUser(id: cached.userID),
            user.passwordVersion == cached.passwordVersion
        {
            return user.principal(credential: .password)
        }
        if let wait = throttle.retryAfter(username: username, address: address) {
            throw ControlError.throttled(retryAfterSeconds: wait)
        }
        let user = try loadUser(username: username)
        guard let user, hasher.verify(password, against: user.passwordHash) else {
            if user == nil { _ = hasher.verify(password, against: hasher.decoy) }
            throttle.recordFailure(username: username, address: address)
            throw ControlError.unauthenticated("invalid username or password")
        }
        throttle.recordSuccess(username: username)
        basicCache.store(cacheKey, userID: user.id, tenant: user.tenant, passwordVersion: user.passwordVersion)
        return user.principal(credential: .password)
    }

    // MARK: JWT

    func authenticateJWT(_ token: String) throws -> Principal {
        let claims: JWTClaims
        do {
            claims = try keyring.verifier.verify(token, now: Int(Self.now()))
        } catch {
            throw ControlError.unauthenticated(error == .expired ? "token expired" : "invalid token")
        }
        guard let sub = claims.sub, let id = Int64(sub), case .number(let version)? = claims["pv"],
            let user = try loadUser(id: id), user.passwordVersion == Int(version)
        else { throw ControlError.unauthenticated("invalid token") }
        return user.principal(credential: .token)
    }

    /// A signed token for `user`, valid for the configured lifetime.
    func issueToken(for principal: Principal, passwordVersion: Int) -> (token: String, expiresAt: Int64) {
        let now = Self.now()
        let expires = now + Int64(tokenLifetimeSeconds)
        var claims: [String: JSONValue] = [
            "iss": .string("plinth"),
            "sub": .string(String(principal.userID ?? 0)),
            "name": .string(principal.name),
            "role": .string(principal.role.rawValue),
            "pv": .number(Double(passwordVersion)),
            "iat": .number(Double(now)),
            "exp": .number(Double(expires)),
            "jti": .string(Base64URL.encode(SecureRandom.bytes(12))),
        ]
        if let tenant = principal.tenant { claims["tenant"] = .string(tenant) }
        let key = keyring.signingKey
        return (JWTSigner.hs256(claims: claims, secret: key.secret, kid: key.kid), expires)
    }

    // MARK: Users

    struct StoredUser: Sendable {
        var id: Int64
        var username: String
        var tenant: String?
        var role: Role
        var passwordHash: String
        var passwordVersion: Int

        func principal(credential: Principal.Credential) -> Principal {
            Principal(userID: id, name: username, tenant: tenant, role: role, credential: credential)
        }
    }

    func loadUser(id: Int64) throws -> StoredUser? {
        try store.read { db in try db.queryOne("SELECT * FROM users WHERE id = ?", id) }.flatMap(Self.user(from:))
    }

    func loadUser(username: String) throws -> StoredUser? {
        try store.read { db in try db.queryOne("SELECT * FROM users WHERE username = ?", username) }
            .flatMap(Self.user(from:))
    }

    private static func user(from row: Row) -> StoredUser? {
        guard let id = row.optionalInt64("id"), let username = row.optionalString("username"),
            let role = row.optionalString("role").flatMap(Role.init(rawValue:)),
            let hash = row.optionalString("password_hash"), let version = row.optionalInt("password_version")
        else { return nil }
        return StoredUser(
            id: id, username: username, tenant: row.optionalString("tenant"), role: role, passwordHash: hash,
            passwordVersion: version)
    }
}
