import PlinthCrypto
import XCTest

final class JWTTests: XCTestCase {
    // RFC 7515 appendix A.1: HS256 example. Its exp (1300819380) is in the past: verify at a `now` before it.
    static let rfcToken =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let rfcKey = Base64URL.decode(
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")!
    static let rfcNow = 1_300_819_000
    /// Inside every fixture token's validity window.
    static let now = 1_700_000_100
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)

    func testRFC7515AppendixA1TokenVerifies() throws {
        let verifier = JWTVerifier(keys: [.hs256(secret: Self.rfcKey)], issuer: "joe")
        let claims = try verifier.verify(Self.rfcToken, now: Self.rfcNow)
        XCTAssertEqual(claims.iss, "joe")
        XCTAssertEqual(claims.exp, 1_300_819_380)
        XCTAssertEqual(claims["http://example.com/is_root"], .bool(true))
    }

    func testRFC7515TokenIsExpiredAfterItsExp() {
        let verifier = JWTVerifier(keys: [.hs256(secret: Self.rfcKey)], leeway: 0)
        XCTAssertThrowsError(try verifier.verify(Self.rfcToken, now: 1_300_819_380)) {
            XCTAssertEqual($0 as? JWTError, .expired)
        }
        XCTAssertNoThrow(try verifier.verify(Self.rfcToken, now: 1_300_819_379))
    }

    func testTamperedSignatureIsRejected() {
        var parts = Self.rfcToken.split(separator: ".").map(String.init)
        var sig = Base64URL.decode(parts[2])!
        sig[0] ^= 1
        parts[2] = Base64URL.encode(sig)
        let verifier = JWTVerifier(keys: [.hs256(secret: Self.rfcKey)])
        XCTAssertThrowsError(try verifier.verify(parts.joined(separator: "."), now: Self.rfcNow)) {
            XCTAssertEqual($0 as? JWTError, .badSignature)
        }
    }

    func testTamperedPayloadIsRejected() {
        let token = JWTSigner.hs256(claims: ["sub": "alice", "role": "user"], secret: Self.secret, kid: nil)
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = Base64URL.encode(Array(#"{"role":"admin","sub":"alice"}"#.utf8))
        XCTAssertThrowsError(try JWTVerifier(keys: [.hs256(secret: Self.secret)]).verify(parts.joined(separator: ".")))
        {
            XCTAssertEqual($0 as? JWTError, .badSignature)
        }
    }

    func testSignedHS256TokenRoundTripsWithKid() throws {
        let token = JWTSigner.hs256(
            claims: ["sub": "u1", "iss": "plinth", "aud": "console", "exp": 2_000_000_000, "iat": 1_700_000_000],
            secret: Self.secret, kid: "k2")
        let verifier = JWTVerifier(
            keys: [
                .hs256(secret: Array("other-secret-other-secret-other!".utf8), kid: "k1"),
                .hs256(secret: Self.secret, kid: "k2"),
            ],
            issuer: "plinth", audience: "console")
        let claims = try verifier.verify(token, now: Self.now)
        XCTAssertEqual(claims.sub, "u1")
        XCTAssertEqual(claims.aud, ["console"])
        XCTAssertEqual(claims.exp, 2_000_000_000)
    }

    func testUnknownKidIsRejected() {
        let token = JWTSigner.hs256(claims: ["sub": "u1"], secret: Self.secret, kid: "gone")
        XCTAssertThrowsError(try JWTVerifier(keys: [.hs256(secret: Self.secret, kid: "k1")]).verify(token)) {
            XCTAssertEqual($0 as? JWTError, .unknownKey)
        }
    }

    func testAlgNoneIsRejectedWhateverItsSpelling() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = Base64URL.encode(Array(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8))
            let payload = Base64URL.encode(Array(#"{"sub":"admin"}"#.utf8))
            for token in ["\(header).\(payload).", "\(header).\(payload).AAAA"] {
                XCTAssertThrowsError(try JWTVerifier(keys: [.hs256(secret: Self.secret)]).verify(token)) {
                    XCTAssertEqual($0 as? JWTError, .unsupportedAlgorithm(alg), token)
                }
            }
        }
    }

    func testHS256TokenMadeWithTheRSAPublicKeyAsSecretIsRejected() throws {
        // The classic key-confusion attack: sign HS256 with the server's public key bytes.
        let forged = JWTSigner.hs256(
            claims: ["sub": "admin", "exp": 4_102_444_800], secret: Array(JWTFixtures.rsaPublicKeyPEM.utf8), kid: "rsa1"
        )
        let verifier = JWTVerifier(keys: [try .rs256(publicKeyPEM: JWTFixtures.rsaPublicKeyPEM, kid: "rsa1")])
        XCTAssertThrowsError(try verifier.verify(forged, now: Self.now)) {
            XCTAssertEqual($0 as? JWTError, .unsupportedAlgorithm("HS256"))
        }
        let forgedNoKid = JWTSigner.hs256(
            claims: ["sub": "admin"], secret: Array(JWTFixtures.rsaPublicKeyPEM.utf8), kid: nil)
        XCTAssertThrowsError(try verifier.verify(forgedNoKid, now: Self.now)) {
            XCTAssertEqual($0 as? JWTError, .unsupportedAlgorithm("HS256"))
        }
    }

    func testRS256TokenAgainstAnHS256KeyIsRejected() {
        let verifier = JWTVerifier(keys: [.hs256(secret: Self.secret, kid: "rsa1")])
        XCTAssertThrowsError(try verifier.verify(JWTFixtures.rs256Token, now: Self.now)) {
            XCTAssertEqual($0 as? JWTError, .unsupportedAlgorithm("RS256"))
        }
    }

    func testRS256TokenVerifiesWithItsPublicKey() throws {
        let key = try JWTKey.rs256(publicKeyPEM: JWTFixtures.rsaPublicKeyPEM, kid: "rsa1")
        let verifier = JWTVerifier(keys: [key], issuer: "https://idp.example", audience: "plinth")
        let claims = try verifier.verify(JWTFixtures.rs256Token, now: Self.now)
        XCTAssertEqual(claims.sub, "alice")
        XCTAssertEqual(claims.aud, ["plinth", "other"])
        // Without kid in the token every RS256 key is tried.
        let other = try JWTKey.rs256(publicKeyPEM: JWTFixtures.rsaOtherPublicKeyPEM)
        let keyNoKid = try JWTKey.rs256(publicKeyPEM: JWTFixtures.rsaPublicKeyPEM)
        XCTAssertEqual(
            try JWTVerifier(keys: [other, keyNoKid]).verify(JWTFixtures.rs256TokenNoKid, now: Self.now).sub, "alice")
    }

    func testRS256TokenSignedByAnotherKeyIsRejected() throws {
        let verifier = JWTVerifier(keys: [try .rs256(publicKeyPEM: JWTFixtures.rsaPublicKeyPEM, kid: "rsa1")])
        XCTAssertThrowsError(try verifier.verify(JWTFixtures.rs256TokenSignedByOtherKey, now: Self.now)) {
            XCTAssertEqual($0 as? JWTError, .badSignature)
        }
    }

    func testES256TokenVerifiesWithRawSignatureOnly() throws {
        let verifier = JWTVerifier(
            keys: [try .es256(publicKeyPEM: JWTFixtures.ecPublicKeyPEM, kid: "ec1")], audience: "plinth")
        XCTAssertEqual(try verifier.verify(JWTFixtures.es256Token, now: Self.now).aud, ["plinth"])
        // A DER signature is not what JWS specifies.
        XCTAssertThrowsError(try verifier.verify(JWTFixtures.es256TokenDERSignature, now: Self.now)) {
            XCTAssertEqual($0 as? JWTError, .badSignature)
        }
    }

    func testES256TokenAgainstRS256KeyWithSameKidIsRejected() throws {
        let verifier = JWTVerifier(keys: [try .rs256(publicKeyPEM: JWTFixtures.rsaPublicKeyPEM, kid: "ec1")])
        XCTAssertThrowsError(try verifier.verify(JWTFixtures.es256Token, now: Self.now)) {
            XCTAssertEqual($0 as? JWTError, .unsupportedAlgorithm("ES256"))
        }
    }

    func testKeyLoadingRejectsWrongTypesShortKeysAndGarbage() {
        XCTAssertThrowsError(try JWTKey.rs256(publicKeyPEM: JWTFixtures.ecPublicKeyPEM)) {
            XCTAssertEqual($0 as? JWTKeyError, .wrongKeyType(expected: "RSA"))
        }
        XCTAssertThrowsError(try JWTKey.es256(publicKeyPEM: JWTFixtures.rsaPublicKeyPEM)) {
            XCTAssertEqual($0 as? JWTKeyError, .wrongKeyType(expected: "EC"))
        }
        XCTAssertThrowsError(try JWTKey.es256(publicKeyPEM: JWTFixtures.ecP384PublicKeyPEM)) {
            XCTAssertEqual($0 as? JWTKeyError, .wrongCurve)
        }
        XCTAssertThrowsError(try JWTKey.rs256(publicKeyPEM: JWTFixtures.rsa1024PublicKeyPEM)) {
            XCTAssertEqual($0 as? JWTKeyError, .keyTooShort(bits: 1024))
        }
        for garbage in ["", "hello", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"] {
            XCTAssertThrowsError(try JWTKey.rs256(publicKeyPEM: garbage)) {
                XCTAssertEqual($0 as? JWTKeyError, .invalidPEM)
            }
        }
    }

    func testTimeAndAudienceAndIssuerChecks() {
        struct Case {
            let name: String
            let claims: [String: JSONValue]
            let issuer: String?
            let audience: String?
            let error: JWTError?
        }
        let now = 1_000_000
        let cases = [
            Case(
                name: "valid", claims: ["exp": 1_000_100, "nbf": 999_000, "iat": 999_000], issuer: nil, audience: nil,
                error: nil),
            Case(name: "expired", claims: ["exp": 999_000], issuer: nil, audience: nil, error: .expired),
            Case(name: "expired within leeway", claims: ["exp": 999_990], issuer: nil, audience: nil, error: nil),
            Case(
                name: "expired exactly at exp+leeway", claims: ["exp": 999_970], issuer: nil, audience: nil,
                error: .expired),
            Case(name: "not yet valid", claims: ["nbf": 1_000_100], issuer: nil, audience: nil, error: .notYetValid),
            Case(name: "nbf within leeway", claims: ["nbf": 1_000_020], issuer: nil, audience: nil, error: nil),
            Case(
                name: "issued in future", claims: ["iat": 1_000_100], issuer: nil, audience: nil, error: .issuedInFuture
            ),
            Case(name: "fractional exp", claims: ["exp": 1_000_100.5], issuer: nil, audience: nil, error: nil),
            Case(
                name: "wrong issuer", claims: ["iss": "mallory"], issuer: "plinth", audience: nil, error: .wrongIssuer),
            Case(name: "missing issuer", claims: [:], issuer: "plinth", audience: nil, error: .wrongIssuer),
            Case(name: "right issuer", claims: ["iss": "plinth"], issuer: "plinth", audience: nil, error: nil),
            Case(
                name: "wrong audience", claims: ["aud": "billing"], issuer: nil, audience: "console",
                error: .wrongAudience),
            Case(name: "missing audience", claims: [:], issuer: nil, audience: "console", error: .wrongAudience),
            Case(
                name: "audience in array", claims: ["aud": ["a", "console"]], issuer: nil, audience: "console",
                error: nil),
            Case(
                name: "audience array without it", claims: ["aud": ["a", "b"]], issuer: nil, audience: "console",
                error: .wrongAudience),
            Case(name: "exp as string", claims: ["exp": "1000100"], issuer: nil, audience: nil, error: .malformed),
            Case(name: "aud as number", claims: ["aud": 5], issuer: nil, audience: nil, error: .malformed),
            Case(
                name: "aud array with number", claims: ["aud": ["a", 5]], issuer: nil, audience: nil, error: .malformed),
            Case(name: "iss as bool", claims: ["iss": true], issuer: nil, audience: nil, error: .malformed),
        ]
        for c in cases {
            let token = JWTSigner.hs256(claims: c.claims, secret: Self.secret, kid: nil)
            let verifier = JWTVerifier(
                keys: [.hs256(secret: Self.secret)], issuer: c.issuer, audience: c.audience, leeway: 30)
            do {
                _ = try verifier.verify(token, now: now)
                XCTAssertNil(c.error, "\(c.name): expected \(String(describing: c.error))")
            } catch {
                XCTAssertEqual(error, c.error, c.name)
            }
        }
    }

    func testRequireExpirationRefusesTokensWithoutExp() {
        let token = JWTSigner.hs256(claims: ["sub": "u"], secret: Self.secret, kid: nil)
        XCTAssertThrowsError(
            try JWTVerifier(keys: [.hs256(secret: Self.secret)], requireExpiration: true).verify(token)
        ) {
            XCTAssertEqual($0 as? JWTError, .malformed)
        }
    }

    func testMalformedTokensAreRejected() {
        let good = JWTSigner.hs256(claims: ["sub": "u"], secret: Self.secret, kid: nil)
        let parts = good.split(separator: ".").map(String.init)
        func b64(_ s: String) -> String { Base64URL.encode(Array(s.utf8)) }
        func signed(header: String, payload: String) -> String {
            let input = b64(header) + "." + b64(payload)
            return input + "." + Base64URL.encode(HMAC.sha256(key: Self.secret, message: Array(input.utf8)))
        }
        let table: [(String, String, JWTError)] = [
            ("empty", "", .malformed),
            ("one part", parts[0], .malformed),
            ("two parts", parts[0] + "." + parts[1], .malformed),
            ("four parts", good + ".x", .malformed),
            ("empty header", "." + parts[1] + "." + parts[2], .malformed),
            ("empty payload", parts[0] + ".." + parts[2], .malformed),
            ("header not base64url", "e+J." + parts[1] + "." + parts[2], .malformed),
            ("padded signature", good + "=", .malformed),
            ("header not JSON", b64("alg HS256") + "." + parts[1] + "." + parts[2], .malformed),
            ("header is an array", b64(#"["HS256"]"#) + "." + parts[1] + "." + parts[2], .malformed),
            ("header without alg", signed(header: #"{"typ":"JWT"}"#, payload: "{}"), .malformed),
            ("alg not a string", signed(header: #"{"alg":256}"#, payload: "{}"), .malformed),
            ("unknown alg", signed(header: #"{"alg":"HS512"}"#, payload: "{}"), .unsupportedAlgorithm("HS512")),
            ("kid not a string", signed(header: #"{"alg":"HS256","kid":7}"#, payload: "{}"), .malformed),
            ("crit header", signed(header: #"{"alg":"HS256","crit":["exp"]}"#, payload: "{}"), .malformed),
            ("payload not JSON", signed(header: #"{"alg":"HS256"}"#, payload: "sub=u"), .malformed),
            ("payload an array", signed(header: #"{"alg":"HS256"}"#, payload: "[1]"), .malformed),
            ("payload a string", signed(header: #"{"alg":"HS256"}"#, payload: #""u""#), .malformed),
            ("truncated signature", String(good.dropLast(3)), .badSignature),
            ("too long", parts[0] + "." + String(repeating: "A", count: 20_000) + "." + parts[2], .malformed),
            ("whitespace", " " + good, .malformed),
        ]
        let verifier = JWTVerifier(keys: [.hs256(secret: Self.secret)])
        XCTAssertNoThrow(try verifier.verify(good))
        for (name, token, expected) in table {
            XCTAssertThrowsError(try verifier.verify(token), name) { XCTAssertEqual($0 as? JWTError, expected, name) }
        }
    }

    func testJSONValueDecodesTypesDistinctly() throws {
        let value = try JSONDecoder().decode(
            JSONValue.self, from: Data(#"{"a":true,"b":1,"c":"x","d":null,"e":[1.5]}"#.utf8))
        XCTAssertEqual(value, ["a": true, "b": 1, "c": "x", "d": nil, "e": [1.5]])
    }
}
