import Foundation
import PlinthCore

/// On-disk layout of the usage journal.
///
/// A journal is a directory of segment files `usage-<20-digit sequence>.journal`. Each segment
/// starts with a 16-byte header — magic `PLUJ`, u32 format (1), u64 sequence — followed by
/// records: u32 payload length, u32 CRC-32 of (length bytes + payload), payload (an encoded
/// `UsageEvent`). All integers little-endian.
enum JournalFormat {
    static let magic: [UInt8] = Array("PLUJ".utf8)
    static let version: UInt32 = 1
    static let headerSize: Int64 = 16
    static let recordHeaderSize = 8
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

    static func header(segment: UInt64) -> [UInt8] {
        var out = magic
        put(UInt64(version), 4, &out)
        put(segment, 8, &out)
        return out
    }

    static func isValidHeader(_ bytes: ArraySlice<UInt8>, segment: UInt64) -> Bool {
        bytes.count >= Int(headerSize) && Array(bytes.prefix(Int(headerSize))) == header(segment: segment)
    }

    /// A framed record holding `event`.
    static func record(_ event: UsageEvent) throws(JournalError) -> [UInt8] {
        var payload: [UInt8] = []
        event.encode(into: &payload)
        guard payload.count <= maxPayload else { throw .recordTooLarge(payload.count) }
        var out: [UInt8] = []
        out.reserveCapacity(recordHeaderSize + payload.count)
        put(UInt64(payload.count), 4, &out)
        let crc = CRC32.update(CRC32.checksum(out), payload)
        put(UInt64(crc), 4, &out)
        out.append(contentsOf: payload)
        return out
    }

    static func put(_ v: UInt64, _ n: Int, _ out: inout [UInt8]) {
        for i in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    static func u32(_ b: ArraySlice<UInt8>, at i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
