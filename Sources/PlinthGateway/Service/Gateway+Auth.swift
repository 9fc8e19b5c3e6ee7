import PlinthHTTP

extension Gateway {
    /// Roles that may read metadata but not invoke (a comparison: a Set lookup hashed per request).
    static func isReadOnly(_ role: String) -> Bool { role == "viewer" }

    /// The caller's principal, or an `HTTPError` carrying the answer (401/403/429).
    func authenticate(_ request: HTTPRequest) throws(HTTPError) -> GatewayPrincipal {
        guard let principal = try authenticate(request, mayBlock: true) else {
            throw HTTPError(401, "invalid credentials", headers: Gateway.challenge)
        }
        return principal
    }

    /// Like `authenticate(_:)`; with `mayBlock: false` (on an event loop) a cache miss that would
    /// need a password hash (HTTP Basic, PBKDF2) returns nil instead: redo it where blocking is fine.
    func authenticate(_ request: HTTPRequest, mayBlock: Bool) throws(HTTPError) -> GatewayPrincipal? {
        guard let raw = GatewayCredential.rawValue(request.headers) else {
            throw Gateway.authError(.missing)
        }
        let now = GatewayClock.now()
        let key = PrincipalCache.key(raw)
        if let cached = principals.lookup(key, now: now) { return cached }
        do {
            guard let credential = try GatewayCredential.parse(request.headers) else { throw GatewayAuthError.missing }
            if !mayBlock, case .basic = credential { return nil }
            let principal = try directory.authenticate(credential, remoteAddress: request.remoteAddress)
            principals.store(principal, for: key, now: now)
            return principal
        } catch let error as GatewayAuthError {
            throw Gateway.authError(error)
        } catch {
            throw HTTPError(401, "invalid credentials", headers: Gateway.challenge)
        }
    }

    /// The deployment `name` as `principal` may see it. Another tenant's deployment, an unknown
    /// one and one outside the credential's scope all answer the same 404, so a caller learns
    /// nothing about names it may not use.
    func resolve(_ principal: GatewayPrincipal, _ name: String) throws(HTTPError) -> DeploymentRoute {
        guard principal.mayCall(name), let route = directory.route(tenantID: principal.tenantID, deployment: name)
        else {
            throw HTTPError(404, "deployment '\(name)' not found")
        }
        return route
    }

    static let challenge: HTTPHeaders = {
        var headers = HTTPHeaders()
        headers.add("WWW-Authenticate", #"Bearer realm="plinth""#)
        headers.add("WWW-Authenticate", #"Basic realm="plinth", charset="UTF-8""#)
        return headers
    }()

    /// The one place a `GatewayAuthError` becomes an HTTP answer.
    static func authError(_ error: GatewayAuthError) -> HTTPError {
        switch error {
        case .missing:
            HTTPError(401, "missing credentials: send 'Authorization: Bearer plk_…' or 'X-API-Key'", headers: challenge)
        case .invalid:
            HTTPError(401, "invalid credentials", headers: challenge)
        case .forbidden(let why):
            HTTPError(403, why.isEmpty ? "forbidden" : why)
        case .suspended:
            HTTPError(403, "tenant suspended")
        case .throttled(let retryAfter):
            HTTPError(
                429, "too many failed authentication attempts", headers: ["Retry-After": String(max(1, retryAfter))])
        }
    }

    /// An `HTTPError` as a response (for handlers that meter before answering).
    static func response(_ error: HTTPError, requestID: String) -> HTTPResponse {
        var response = HTTPResponse.error(error.status, error.message, fields: error.fields)
        for (name, value) in error.headers { response.headers.add(name, value) }
        return response
    }
}
