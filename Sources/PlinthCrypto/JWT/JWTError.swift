/// Why a token was refused. Map every case to 401 at the HTTP edge; do not tell the caller
/// which check failed beyond what this enum's case names.
public enum JWTError: Error, Sendable, Equatable {
    /// Not three base64url parts of JSON objects, a claim of the wrong type, or too long.
    case malformed
    /// `alg` is `none`, unknown, or not the algorithm of the key that would verify it.
    case unsupportedAlgorithm(String)
    /// `kid` names no configured key.
    case unknownKey
    /// The signature does not verify.
    case badSignature
    /// `exp` has passed (beyond the leeway).
    case expired
    /// `nbf` is still ahead (beyond the leeway).
    case notYetValid
    /// `iat` is in the future (beyond the leeway).
    case issuedInFuture
    /// `iss` is not the expected issuer.
    case wrongIssuer
    /// `aud` does not contain the expected audience.
    case wrongAudience
}

/// Why a verification key could not be loaded.
public enum JWTKeyError: Error, Sendable, Equatable {
    /// The text is not a PEM SubjectPublicKeyInfo ("BEGIN PUBLIC KEY").
    case invalidPEM
    /// The key is of another type than the algorithm needs (e.g. an EC key for RS256).
    case wrongKeyType(expected: String)
    /// RSA keys below 2048 bits are refused.
    case keyTooShort(bits: Int)
    /// ES256 requires a P-256 key.
    case wrongCurve
}
