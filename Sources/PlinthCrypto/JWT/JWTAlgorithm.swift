/// The JWS algorithms Plinth accepts. `none` is never accepted.
public enum JWTAlgorithm: String, Sendable {
    /// HMAC-SHA256 with a shared secret.
    case HS256
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    case RS256
    /// ECDSA on P-256 with SHA-256; signatures are raw r||s (64 bytes).
    case ES256
}
