import Foundation
import PlinthCore

/// On-disk layout of the usage journal.
///
/// A journal is a directory of segment files `usage-<20-digit sequence>.journal`. Each segment
/// starts with a 16-byte header — magic `PLUJ`, u32 format, u64 sequence — followed by records.
/// Format 2 (written now): u32 payload length, u32 CRC-32 of (length bytes + payload), u32 state
/// word (`UsageRecordState`, outside the CRC because it changes after the append), the payload
/// (an encoded `UsageEvent`), zero padding to a multiple of 4. Format 1 (read only): u32 length,
/// u32 CRC, payload; every record counts as delivered. All integers little-endian. A length of 0
/// ends the segment's data (the rest of a preallocated segment is zeros).
enum JournalFormat {
    static let magic: [UInt8] = Array("PLUJ".utf8)
    static let version: UInt32 = 2
    static let headerSize: Int64 = 16
    /// Record header of format 2: length, CRC, state.
    static let recordHeaderSize = 12
    static let stateOffset = 8
    /// Largest payload accepted; an event is well under 6 KiB, so a larger length is corruption.
    static let maxPayload = 64 * 1024

    static func fileName(segment: UInt64) -> String {
        let digits = String(segment)
        return "usage-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".journal"
    }

    /// The sequence number in a segment file name, nil for other files.
    static func segment(fromFileName name: String) -> UInt64? {
        guard name.hasPrefix("usage-"), name.hasSuffix(".journal") else { return nil }
        let digits = name.dropFirst(6).dropLast(8)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }

    /// Sequence numbers of the segments in `directory`, ascending.
    static func segments(in directory: String) throws -> [UInt64] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw JournalError.io(operation: "list", path: directory, errno: ENOENT)
        }
        return names.compactMap(segment(fromFileName:)).sorted()
    }

    static func header(segment: UInt64, version: UInt32 = version) -> [UInt8] {
        var out = magic
        put(UInt64(version), 4, &out)
        put(segment, 8, &out)
        return out
    }

    /// The format of a segment whose header is `bytes`, nil when the header is torn or wrong.
    static func headerVersion(_ bytes: ArraySlice<UInt8>, segment: UInt64) -> UInt32? {
        guard bytes.count >= Int(headerSize) else { return nil }
        let head = Array(bytes.prefix(Int(headerSize)))
        for v in [UInt32(1), version] where head == header(segment: segment, version: v) { return v }
        return nil
    }

    /// Bytes a format-2 record with a payload of `length` bytes takes, padding included.
    static func recordSize(payload length: Int) -> Int { recordHeaderSize + ((length + 3) & ~3) }

    /// A framed format-2 record holding `event`, without its length word (stored last, so a
    /// record is never visible half-written) and with a zero state word.
    static func record(_ event: UsageEvent) throws(JournalError) -> (length: UInt32, bytes: [UInt8]) {
        // One exact-size buffer: header words, then the payload written in place.
        let length = event.encodedSize
        guard length <= maxPayload else { throw .recordTooLarge(length) }
        let size = recordSize(payload: length)
        let out = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            let written = event.encode(to: raw.baseAddress! + recordHeaderSize)
            precondition(written == length, "usage event encoded \(written) bytes, sized \(length)")
            raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 0, as: UInt32.self)
            let lengthWord = UnsafeRawBufferPointer(rebasing: raw[0..<4])
            let payload = UnsafeRawBufferPointer(rebasing: raw[recordHeaderSize..<(recordHeaderSize + length)])
            raw.storeBytes(of: CRC32.update(CRC32.update(0, lengthWord), payload).littleEndian, toByteOffset: 4, as: UInt32.self)
            count = size
        }
        return (UInt32(length), out)
    }

    static func put(_ v: UInt64, _ n: Int, _ out: inout [UInt8]) {
        for i in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        put(UInt64(v), 4, &out)
        return out
    }

    static func u32(_ b: ArraySlice<UInt8>, at i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}

/// Where a journaled request stands. Each value repeats one ASCII letter in all four bytes, so
/// damage to up to three bytes cannot turn one valid state into another.
public enum UsageRecordState: UInt32, Sendable, CaseIterable {
    /// Appended before the response was handed to the socket; fate unknown yet.
    case pending = 0x5050_5050  // "PPPP"
    /// The send that may complete the response is under way. A process that dies here had
    /// entered (or was about to enter) that send: counted as delivered.
    case sending = 0x5353_5353  // "SSSS"
    /// Every byte of the response was handed to the kernel: billed.
    case delivered = 0x4444_4444  // "DDDD"
    /// The response never fully went out (write failed, connection closed, process died): not billed.
    case abandoned = 0x4141_4141  // "AAAA"

    /// Delivered and abandoned never change again.
    public var isFinal: Bool { self == .delivered || self == .abandoned }

    /// What a record left in this state by a process that is gone means.
    public var afterCrash: UsageRecordState {
        switch self {
        case .pending, .abandoned: .abandoned
        case .sending, .delivered: .delivered
        }
    }
}
