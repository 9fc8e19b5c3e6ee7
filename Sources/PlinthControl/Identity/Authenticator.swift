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
    func authenticate(_ request: HTTPRequest, index: IdentityIndex) throws -> Principal {
        try authenticate(Self.credential(of: request), address: Self.host(of: request.remoteAddress), index: index)
    }

    /// The credential a request carries: `X-API-Key`, or `Authorization` Basic / Bearer.
    static func credential(of request: HTTPRequest) throws -> PresentedCredential {
        if let key = request.headers["X-API-Key"] {
            return try apiKeyCredential(key.trimmingCharacters(in: .whitespaces))
        }
        guard let authorization = request.headers["Authorization"] else {
            throw ControlError.unauthenticated("credentials required")
        }
        let trimmed = authorization.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else {
            throw ControlError.unauthenticated("malformed Authorization header")
        }
        let scheme = trimmed[..<space].lowercased()
        let value = trimmed[space...].trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "basic":
            guard value.utf8.count <= 1024, let raw = Data(base64Encoded: value),
                let decoded = String(data: raw, encoding: .utf8), let colon = decoded.firstIndex(of: ":")
            else { throw ControlError.unauthenticated("malformed Basic credentials") }
            return .basic(
                user: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
        case "bearer":
            return value.hasPrefix(APIKeyToken.prefix) ? try apiKeyCredential(value) : .bearer(token: value)
        default:
            throw ControlError.unauthenticated("unsupported authorization scheme")
        }
    }

    private static func apiKeyCredential(_ text: String) throws -> PresentedCredential {
        guard let token = APIKeyToken(parsing: text) else { throw ControlError.unauthenticated("invalid API key") }
        return .apiKey(id: token.id, secret: token.secret)
    }

    /// Checks a presented credential against the in-memory index; no database read.
    func authenticate(_ credential: PresentedCredential, address: String, index: IdentityIndex) throws -> Principal {
        let principal: Principal
        switch credential {
        case .apiKey(let id, let secret): principal = try authenticateAPIKey(id: id, secret: secret, index: index)
        case .bearer(let token): principal = try authenticateJWT(token, index: index)
        case .basic(let user, let password):
            principal = try authenticateBasic(user: user, password: password, address: address, index: index)
        }
        if let tenant = principal.tenant, index.isSuspended(tenant) {
            throw ControlError.forbidden("tenant is suspended")
        }
        return principal
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

    func authenticateAPIKey(id: String, secret: String, index: IdentityIndex) throws -> Principal {
        // Hash even when the id is unknown so both paths cost the same.
        let presentedHash = SHA256.hash(secret)
        guard let key = index.keys[id], constantTimeEquals(presentedHash, key.secretSHA256) else {
            throw ControlError.unauthenticated("invalid API key")
        }
        if key.isExpired(now: Self.now()) { throw ControlError.unauthenticated("API key expired") }
        keyUsage.touch(id, store: store)
        return Principal(
            userID: nil, name: "key:\(id)", tenant: key.tenant, role: key.role, credential: .apiKey(id: id),
            deployments: key.deployments)
    }

    // MARK: HTTP Basic

    func authenticateBasic(user username: String, password: String, address: String, index: IdentityIndex) throws
        -> Principal
    {
        let cacheKey = SHA256.hash(Array(username.utf8) + [0] + Array(password.utf8))
        if let cached = basicCache.lookup(cacheKey), let user = index.usersByID[cached.userID],
            user.passwordVersion == cached.passwordVersion
        {
            return user.principal(credential: .password)
        }
        if let wait = throttle.retryAfter(username: username, address: address) {
            throw ControlError.throttled(retryAfterSeconds: wait)
        }
        let user = index.user(named: username)
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

    func authenticateJWT(_ token: String, index: IdentityIndex) throws -> Principal {
        let claims: JWTClaims
        do {
            claims = try keyring.verifier.verify(token, now: Int(Self.now()))
        } catch {
            throw ControlError.unauthenticated(error == .expired ? "token expired" : "invalid token")
        }
        guard let sub = claims.sub, let id = Int64(sub), case .number(let version)? = claims["pv"],
            let user = index.usersByID[id], user.passwordVersion == Int(version)
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
}
