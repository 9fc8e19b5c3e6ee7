/// The verified claims of a token: the registered ones typed, everything in `raw`.
public struct JWTClaims: Sendable {
    /// Every claim as decoded.
    public var raw: [String: JSONValue]
    /// `iss`: who issued the token.
    public var iss: String?
    /// `sub`: whom the token is about.
    public var sub: String?
    /// `aud`: the audiences (a single string becomes a one-element array).
    public var aud: [String]
    /// `exp`, `nbf`, `iat`: NumericDate seconds since the epoch (fractions rounded down).
    public var exp: Int?
    public var nbf: Int?
    public var iat: Int?
    /// `jti`: the token's unique id.
    public var jti: String?

    /// Claim `name`, as decoded.
    public subscript(_ name: String) -> JSONValue? { raw[name] }

    /// Reads and type-checks the registered claims of a payload.
    init(payload: [String: JSONValue]) throws(JWTError) {
        raw = payload
        func string(_ name: String) throws(JWTError) -> String? {
            guard let v = payload[name] else { return nil }
            guard case .string(let s) = v else { throw .malformed }
            return s
        }
        func date(_ name: String) throws(JWTError) -> Int? {
            guard let v = payload[name] else { return nil }
            guard let n = v.intValue else { throw .malformed }
            return n
        }
        iss = try string("iss")
        sub = try string("sub")
        jti = try string("jti")
        exp = try date("exp")
        nbf = try date("nbf")
        iat = try date("iat")
        switch payload["aud"] {
        case nil: aud = []
        case .string(let s)?: aud = [s]
        case .array(let items)?:
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw .malformed }
                out.append(s)
            }
            aud = out
        default: throw .malformed
        }
    }
}
