import Foundation

/// Verifies compact JWS tokens (RFC 7515/7519) against configured keys and claim expectations.
public struct JWTVerifier: Sendable {
    /// Longest token accepted; longer ones are malformed (bounds work before any parsing).
    public static let maxTokenBytes = 16 * 1024

    public let keys: [JWTKey]
    public let issuer: String?
    public let audience: String?
    /// Seconds of clock skew tolerated for `exp`, `nbf` and `iat`.
    public let leeway: Int
    /// When true, tokens without `exp` are refused as malformed.
    public let requireExpiration: Bool

    /// - Parameters:
    ///   - keys: candidate keys; a token's `kid` picks one, otherwise every key of the token's
    ///     algorithm is tried.
    ///   - issuer: when set, `iss` must equal it.
    ///   - audience: when set, `aud` must contain it.
    public init(
        keys: [JWTKey], issuer: String? = nil, audience: String? = nil, leeway: Int = 30,
        requireExpiration: Bool = false
    ) {
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = max(0, leeway)
        self.requireExpiration = requireExpiration
    }

    /// Checks the signature first, then the claims; returns the claims or throws `JWTError`.
    public func verify(_ token: String, now: Int = Int(Date().timeIntervalSince1970)) throws(JWTError) -> JWTClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maxTokenBytes else { throw .malformed }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { throw .malformed }

        guard let headerBytes = Base64URL.decode(parts[0]),
            case .object(let header)? = Self.parseJSON(headerBytes)
        else { throw .malformed }
        guard case .string(let algName)? = header["alg"] else { throw .malformed }
        // Extensions we do not understand must be refused (RFC 7515 §4.1.11).
        guard header["crit"] == nil else { throw .malformed }
        guard let algorithm = JWTAlgorithm(rawValue: algName) else { throw .unsupportedAlgorithm(algName) }

        let candidates: [JWTKey]
        switch header["kid"] {
        case .string(let kid)?:
            let named = keys.filter { $0.kid == kid }
            guard !named.isEmpty else { throw .unknownKey }
            candidates = named.filter { $0.algorithm == algorithm }
        case nil:
            candidates = keys.filter { $0.algorithm == algorithm }
        default:
            throw .malformed
        }
        guard !candidates.isEmpty else { throw .unsupportedAlgorithm(algName) }

        guard let signature = Base64URL.decode(parts[2]) else { throw .malformed }
        let signingInput = bytes[bytes.startIndex..<parts[1].endIndex]
        guard candidates.contains(where: { $0.verify(signature: signature, signingInput: signingInput) }) else {
            throw .badSignature
        }

        guard let payloadBytes = Base64URL.decode(parts[1]),
            case .object(let payload)? = Self.parseJSON(payloadBytes)
        else { throw .malformed }
        let claims = try JWTClaims(payload: payload)
        try check(claims, now: now)
        return claims
    }

    private func check(_ claims: JWTClaims, now: Int) throws(JWTError) {
        if let exp = claims.exp {
            // RFC 7519 §4.1.4: valid only *before* exp.
            if now >= exp.addingReportingOverflow(leeway).partialValue { throw .expired }
        } else if requireExpiration {
            throw .malformed
        }
        if let nbf = claims.nbf, now.addingReportingOverflow(leeway).partialValue < nbf { throw .notYetValid }
        if let iat = claims.iat, iat > now.addingReportingOverflow(leeway).partialValue { throw .issuedInFuture }
        if let issuer, claims.iss != issuer { throw .wrongIssuer }
        if let audience, !claims.aud.contains(audience) { throw .wrongAudience }
    }

    static func parseJSON(_ bytes: [UInt8]) -> JSONValue? {
        JSONParser.parse(bytes)
    }
}
