import Foundation
import PlinthCrypto
import XCTest

final class DigestTests: XCTestCase {
    func testSHA256MatchesNISTVectors() {
        let vectors: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ]
        for (input, expected) in vectors {
            XCTAssertEqual(SHA256.hex(Array(input.utf8)), expected, "input \(input)")
            XCTAssertEqual(Hex.encode(SHA256.hash(input)), expected, "string input \(input)")
        }
    }

    func testSHA256OfOneMillionAsMatchesNISTVector() {
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        XCTAssertEqual(SHA256.hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testStreamingHasherEqualsOneShotForEverySplit() {
        let input = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        let expected = SHA256.hash(input)
        let hasher = SHA256Hasher()
        for split in 0...input.count {
            hasher.update(Array(input[..<split]))
            hasher.update(Array(input[split...]))
            XCTAssertEqual(hasher.finalize(), expected, "split at \(split)")
        }
    }

    func testStreamingHasherOfManyChunksMatchesMillionAVector() {
        let hasher = SHA256Hasher()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { chunk.withUnsafeBytes { hasher.update($0) } }
        XCTAssertEqual(
            Hex.encode(hasher.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // finalize resets: the empty stream follows.
        XCTAssertEqual(
            Hex.encode(hasher.finalize()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testHMACSHA256MatchesRFC4231Vectors() {
        let block131 = [UInt8](repeating: 0xaa, count: 131)
        let vectors: [(key: [UInt8], data: [UInt8], mac: String)] = [
            (
                [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                [UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
            ),
            (
                Array(1...25), [UInt8](repeating: 0xcd, count: 50),
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
            ),
            // Test case 5 is truncated to 128 bits by the RFC: compare the prefix.
            (
                [UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8),
                "a3b6167473100ee06e0c796c2955552b"
            ),
            (
                block131, Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
            (
                block131,
                Array(
                    "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
                        .utf8),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
            ),
        ]
        for (i, v) in vectors.enumerated() {
            let mac = Hex.encode(HMAC.sha256(key: v.key, message: v.data))
            XCTAssertTrue(mac.hasPrefix(v.mac), "RFC 4231 test case \(i + 1): \(mac)")
        }
    }

    func testHMACWithEmptyKeyAfterAnotherKeyDoesNotReuseTheOldKey() {
        // Pooled contexts: an empty key must not fall back to the previous context's key.
        _ = HMAC.sha256(key: Array("Jefe".utf8), message: [1, 2, 3])
        XCTAssertEqual(
            Hex.encode(HMAC.sha256(key: [], message: [])),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    func testHMACIsConsistentAcrossThreads() {
        let key = Array("Jefe".utf8)
        let message = Array("what do ya want for nothing?".utf8)
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for _ in 0..<200 {
                XCTAssertEqual(Hex.encode(HMAC.sha256(key: key, message: message)), expected)
                XCTAssertEqual(SHA256.hex(Array("abc".utf8)).prefix(8), "ba7816bf")
            }
            _ = i
        }
    }

    func testPBKDF2SHA256MatchesRFC7914Vectors() {
        XCTAssertEqual(
            Hex.encode(
                PBKDF2.sha256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, keyLength: 64)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        )
        XCTAssertEqual(
            Hex.encode(
                PBKDF2.sha256(
                    password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80000, keyLength: 64)),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        )
    }

    func testPBKDF2AcceptsEmptyPassword() {
        let a = PBKDF2.sha256(password: [], salt: Array("salt".utf8), iterations: 2, keyLength: 32)
        let b = PBKDF2.sha256(password: [], salt: Array("salt".utf8), iterations: 2, keyLength: 32)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.count, 32)
    }
}
