import PlinthHTTP

/// Failures of control-plane operations, mapped to an HTTP status in exactly one place (`httpError`).
enum ControlError: Error, Sendable {
    /// Missing or invalid credentials (401 with WWW-Authenticate).
    case unauthenticated(String)
    /// Authenticated but the role may not (403).
    case forbidden(String)
    /// The object does not exist or belongs to another tenant (404, never revealing which).
    case notFound(String)
    /// Malformed request (400).
    case badRequest(String)
    /// Conflicts with the current state (409).
    case conflict(String)
    /// Semantically invalid input, naming the offending field (422).
    case invalid(field: String, message: String)
    /// A quota or size limit would be exceeded (413).
    case tooLarge(String)
    /// Too many failed attempts (429 with Retry-After).
    case throttled(retryAfterSeconds: Int)
    /// Artifact failed validation (422).
    case unprocessable(String)

    var httpError: HTTPError {
        switch self {
        case .unauthenticated(let message):
            var headers = HTTPHeaders()
            headers.set("WWW-Authenticate", "Basic realm=\"plinth\", Bearer realm=\"plinth\"")
            return HTTPError(401, message, headers: headers)
        case .forbidden(let message): return HTTPError(403, message)
        case .notFound(let message): return HTTPError(404, message)
        case .badRequest(let message): return HTTPError(400, message)
        case .conflict(let message): return HTTPError(409, message)
        case .invalid(let field, let message): return HTTPError(422, "\(field): \(message)", fields: ["field": field])
        case .tooLarge(let message): return HTTPError(413, message)
        case .throttled(let seconds):
            var headers = HTTPHeaders()
            headers.set("Retry-After", String(seconds))
            return HTTPError(429, "too many failed login attempts; retry later", headers: headers)
        case .unprocessable(let message): return HTTPError(422, message)
        }
    }
}
