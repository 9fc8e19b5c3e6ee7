import PlinthCore

/// A credential as presented at a front door other than /v1 (the prediction gateway), already
/// taken apart from its header.
public enum PresentedCredential: Sendable, Hashable {
    /// `plk_<id>_<secret>` from `Authorization: Bearer …` or `X-API-Key: …`.
    case apiKey(id: String, secret: String)
    /// Any other bearer token (a JWT from POST /v1/auth/token).
    case bearer(token: String)
    /// HTTP Basic, decoded.
    case basic(user: String, password: String)
}

/// Why `ControlPlane.identify` refused a credential.
public enum IdentityError: Error, Sendable, Equatable {
    /// Unknown, wrong, expired or revoked credential → 401.
    case invalid(String)
    /// The caller's tenant is suspended → 403.
    case suspended
    /// Too many failed password attempts for the user or address → 429 with Retry-After.
    case throttled(retryAfter: Int)
}
