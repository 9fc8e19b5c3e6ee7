import PlinthCrypto
import XCTest

/// The strict JSON reading of token payloads, through the public verifier.
final class JWTJSONTests: XCTestCase {
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)

    private func token(payload: [UInt8], header: String = #"{"alg":"HS256"}"#) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(payload)
        return input + "." + Base64URL.encode(HMAC.sha256(key: Self.secret, message: Array(input.utf8)))
    }

    private func verify(_ payload: String) throws -> JWTClaims {
        try JWTVerifier(keys: [.hs256(secret: Self.secret)]).verify(token(payload: Array(payload.utf8)), now: 1000)
    }

    func testWellFormedPayloadsAreRead() throws {
        let claims = try verify(
            #" { "sub" : "a\u00e9\ud83d\ude80\n\"\\\/" , "n": [0, -1, 2.5e-3, 1E2, true, false, null, {}, []], "o": {"k": {"d": -0.0}} } "#
        )
        XCTAssertEqual(claims.sub, "aé🚀\n\"\\/")
        XCTAssertEqual(claims["n"], [0, -1, 0.0025, 100, true, false, nil, [:], []])
        XCTAssertEqual(claims["o"]?["k"]?["d"], .number(0))
    }

    func testMalformedPayloadsAreRefused() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        let table: [(String, String)] = [
            ("duplicate member", #"{"sub":"a","sub":"b"}"#),
            ("trailing comma object", #"{"a":1,}"#),
            ("trailing comma array", #"{"a":[1,]}"#),
            ("leading zero", #"{"a":01}"#),
            ("bare fraction", #"{"a":.5}"#),
            ("dangling point", #"{"a":1.}"#),
            ("lone minus", #"{"a":-}"#),
            ("exponent without digits", #"{"a":1e}"#),
            ("NaN", #"{"a":NaN}"#),
            ("infinite number", #"{"a":1e999}"#),
            ("lone high surrogate", #"{"a":"\ud800"}"#),
            ("lone low surrogate", #"{"a":"\udc00"}"#),
            ("bad escape", #"{"a":"\x41"}"#),
            ("raw tab in string", "{\"a\":\"x\ty\"}"),
            ("unterminated string", #"{"a":"x}"#),
            ("single quotes", "{'a':1}"),
            ("trailing garbage", #"{"a":1} x"#),
            ("two values", #"{"a":1}{"b":2}"#),
            ("unquoted key", #"{a:1}"#),
            ("missing colon", #"{"a" 1}"#),
            ("too deep", #"{"a":"# + deep + "}"),
            ("truncated literal", #"{"a":tru}"#),
            ("empty", ""),
        ]
        for (name, payload) in table {
            XCTAssertThrowsError(try verify(payload), name) { XCTAssertEqual($0 as? JWTError, .malformed, name) }
        }
        // Invalid UTF-8 inside a string.
        XCTAssertThrowsError(
            try JWTVerifier(keys: [.hs256(secret: Self.secret)]).verify(
                token(payload: Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8)))
        ) { XCTAssertEqual($0 as? JWTError, .malformed) }
    }

    func testDuplicateAlgInHeaderIsRefused() {
        let t = token(payload: Array("{}".utf8), header: #"{"alg":"none","alg":"HS256"}"#)
        XCTAssertThrowsError(try JWTVerifier(keys: [.hs256(secret: Self.secret)]).verify(t)) {
            XCTAssertEqual($0 as? JWTError, .malformed)
        }
    }
}
