import Foundation

/// Issues HS256 tokens (the control plane's login tokens).
public enum JWTSigner {
    /// A compact JWS: header `{"alg":"HS256","typ":"JWT"[,"kid":…]}`, the claims, and the HMAC.
    /// Keys are serialised sorted, so equal claims give equal tokens.
    public static func hs256(claims: [String: JSONValue], secret: [UInt8], kid: String? = nil) -> String {
        var header: [String: JSONValue] = ["alg": "HS256", "typ": "JWT"]
        if let kid { header["kid"] = .string(kid) }
        let signingInput = Base64URL.encode(json(.object(header))) + "." + Base64URL.encode(json(.object(claims)))
        let mac = HMAC.sha256(key: secret, message: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(mac)
    }

    static func json(_ value: JSONValue) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // JSONValue is always encodable (non-finite numbers aside, which claims never hold).
        return (try? Array(encoder.encode(value))) ?? Array("null".utf8)
    }
}
