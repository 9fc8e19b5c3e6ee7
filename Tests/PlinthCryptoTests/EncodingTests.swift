import PlinthCrypto
import XCTest

final class EncodingTests: XCTestCase {
    func testBase64URLRoundTripsEveryLengthUpTo64() {
        for n in 0...64 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let encoded = Base64URL.encode(bytes)
            XCTAssertFalse(encoded.contains("="))
            XCTAssertFalse(encoded.contains("+"))
            XCTAssertFalse(encoded.contains("/"))
            XCTAssertEqual(Base64URL.decode(encoded), bytes, "length \(n)")
        }
    }

    func testBase64URLKnownValues() {
        let table: [(String, String)] = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in table {
            XCTAssertEqual(Base64URL.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64URL.decode(encoded), Array(plain.utf8))
        }
        // Bytes that use the two URL-safe characters.
        XCTAssertEqual(Base64URL.encode([0xfb, 0xff]), "-_8")
        XCTAssertEqual(Base64URL.decode("-_8"), [0xfb, 0xff])
    }

    func testBase64URLRejectsNonCanonicalAndForeignInput() {
        let rejected = [
            "Zg==",  // padding
            "Zm9v=",  // padding
            "Z",  // impossible length 4n+1
            "Zm9vY",  // impossible length
            "+/8",  // standard alphabet
            "Zm 9v",  // whitespace
            "Zh",  // non-zero leftover bits ("f" is "Zg")
            "Zm9",  // leftover bits
            "Zm9v\n",
            "é",
        ]
        for input in rejected {
            XCTAssertNil(Base64URL.decode(input), "\(input) should be rejected")
        }
    }

    func testHexRoundTripAndRejects() {
        XCTAssertEqual(Hex.encode([0x00, 0xab, 0xff]), "00abff")
        XCTAssertEqual(Hex.decode("00ABff"), [0x00, 0xab, 0xff])
        XCTAssertEqual(Hex.decode(""), [])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertNil(Hex.decode("0x00"))
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(constantTimeEquals([], []))
        XCTAssertTrue(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2]))
        XCTAssertFalse(constantTimeEquals([], [0]))
    }

    func testSecureRandomGivesDistinctBytesAndURLSafeTokens() {
        let a = SecureRandom.bytes(32)
        let b = SecureRandom.bytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(SecureRandom.bytes(0), [])
        let token = SecureRandom.token(32)
        XCTAssertEqual(token.count, 43)
        XCTAssertEqual(Base64URL.decode(token)?.count, 32)
    }
}
