import PlinthCore
import XCTest

@testable import PlinthGateway

final class JournalFormatTests: XCTestCase {
    func testCRC32MatchesTheStandardCheckValues() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
        // Every length around the four-byte steps, against a byte-at-a-time reference.
        let bytes = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for n in 0...bytes.count {
            XCTAssertEqual(CRC32.checksum(bytes[0..<n]), Self.reference(bytes[0..<n]), "length \(n)")
        }
        XCTAssertEqual(CRC32.update(CRC32.checksum(bytes[0..<5]), bytes[5...]), CRC32.checksum(bytes))
    }

    func testRecordFramesTheEncodedEvent() throws {
        let event = UsageEvent(
            requestID: "req-1", tenantID: "t", apiKeyID: "k", deployment: "fraud", version: "3", status: 200,
            latencyMicros: 120, queueMicros: 4, computeMicros: 50, bytesIn: 300, bytesOut: 80, batchSize: 2,
            shadow: false, timestampMicros: 1_700_000_000_000_000)
        let (length, bytes) = try JournalFormat.record(event)
        XCTAssertEqual(Int(length), event.encoded.count)
        XCTAssertEqual(bytes.count, JournalFormat.recordSize(payload: Int(length)))
        XCTAssertEqual(JournalFormat.u32(bytes[...], at: 0), length)
        let payload = bytes[JournalFormat.recordHeaderSize..<(JournalFormat.recordHeaderSize + Int(length))]
        XCTAssertEqual(Array(payload), event.encoded)
        XCTAssertEqual(JournalFormat.u32(bytes[...], at: 4), Self.reference(bytes[0..<4] + payload))
        XCTAssertEqual(JournalFormat.u32(bytes[...], at: 8), 0, "state word starts zero")
        XCTAssertEqual(UsageEvent.decode(payload), event)
    }

    func testLongFieldsAreCutBeforeTheScalarThatCrossesTheLimit() throws {
        let max = UsageEvent.maxFieldBytes
        // ASCII up to one byte short of the limit, then a two-byte "é": it would cross the limit.
        let crossing = String(repeating: "a", count: max - 1) + "é" + "tail"
        // Exactly at the limit with a complete "é" at the end: kept whole.
        let exact = String(repeating: "a", count: max - 2) + "é"
        let event = UsageEvent(
            requestID: crossing, tenantID: exact, apiKeyID: String(repeating: "k", count: 3 * max), deployment: "d",
            version: "", status: 200, latencyMicros: 1, queueMicros: 0, computeMicros: 0, bytesIn: 0, bytesOut: 0,
            batchSize: 1, shadow: true, timestampMicros: 0)
        XCTAssertEqual(event.encoded.count, event.encodedSize)
        let (_, bytes) = try JournalFormat.record(event)
        let decoded = try XCTUnwrap(
            UsageEvent.decode(bytes[JournalFormat.recordHeaderSize..<(JournalFormat.recordHeaderSize + event.encodedSize)]))
        XCTAssertEqual(decoded.requestID, String(repeating: "a", count: max - 1))
        XCTAssertEqual(decoded.tenantID, exact)
        XCTAssertEqual(decoded.apiKeyID, String(repeating: "k", count: max))
        XCTAssertEqual(decoded.version, "")
        XCTAssertTrue(decoded.shadow)
    }

    /// Fields decode on an ASCII fast path; anything else is validated: non-ASCII UTF-8 comes back
    /// as written, invalid UTF-8 makes the record undecodable.
    func testNonASCIIFieldsRoundTripAndInvalidUTF8IsRefused() throws {
        let event = UsageEvent(
            requestID: "r", tenantID: "zürich", apiKeyID: "k", deployment: "détection-🐟", version: "1", status: 200,
            latencyMicros: 1, queueMicros: 0, computeMicros: 0, bytesIn: 0, bytesOut: 0, batchSize: 1,
            shadow: false, timestampMicros: 0)
        var bytes = event.encoded
        XCTAssertEqual(UsageEvent.decode(bytes[...]), event)
        // The tenant field's "ü" (0xC3 0xBC): its continuation byte replaced by an invalid one.
        let at = try XCTUnwrap(bytes.firstIndex(of: 0xC3))
        bytes[at + 1] = 0x41
        XCTAssertNil(UsageEvent.decode(bytes[...]))
    }

    private static func reference(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}
