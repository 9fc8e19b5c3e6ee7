import PlinthCrypto
import XCTest

/// Seeded mutations of valid inputs: every outcome must be a typed error or a value, never a trap.
final class HostileInputTests: XCTestCase {
    struct Rng: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    static let alphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \u{0}é".unicodeScalars)

    func testMutatedTokensNeverVerifyAndNeverTrap() throws {
        let secret = Array("0123456789abcdef0123456789abcdef".utf8)
        let good = JWTSigner.hs256(
            claims: ["sub": "u", "exp": 4_000_000_000, "aud": ["a", "b"]], secret: secret, kid: "k")
        let verifier = JWTVerifier(keys: [
            .hs256(secret: secret, kid: "k"), try .rs256(publicKeyPEM: JWTFixtures.rsaPublicKeyPEM, kid: "r"),
            try .es256(publicKeyPEM: JWTFixtures.ecPublicKeyPEM, kid: "e"),
        ])
        XCTAssertNoThrow(try verifier.verify(good))
        var rng = Rng(state: 2024)
        let sources = [good, JWTFixtures.rs256Token, JWTFixtures.es256Token]
        for round in 0..<3000 {
            var scalars = Array(sources[round % 3].unicodeScalars)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(scalars.count))
                switch rng.next() % 3 {
                case 0: scalars[at] = Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))]
                case 1: scalars.remove(at: at)
                default: scalars.insert(Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))], at: at)
                }
            }
            var token = ""
            token.unicodeScalars.append(contentsOf: scalars)
            if token == sources[round % 3] { continue }
            // Any accepted mutation must decode to the very same claims (base64url is canonical,
            // so a changed token cannot verify at all).
            XCTAssertThrowsError(try verifier.verify(token, now: 1_700_000_100), "round \(round): \(token)")
        }
    }

    func testRandomBytesThroughDecodersNeverTrap() {
        var rng = Rng(state: 7)
        for _ in 0..<2000 {
            let n = Int(rng.next() % 64)
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let text = String(decoding: bytes, as: UTF8.self)
            if let decoded = Base64URL.decode(text) { XCTAssertEqual(Base64URL.encode(decoded), text) }
            if let decoded = Hex.decode(text) { XCTAssertEqual(Hex.encode(decoded), text.lowercased()) }
            XCTAssertThrowsError(try JWTKey.rs256(publicKeyPEM: text))
        }
    }
}
