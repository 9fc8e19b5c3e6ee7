/// Compact little-endian encoding of a `UsageEvent`, the payload of one journal record.
///
/// Layout (format 1): u8 format, u8 flags (bit 0 = shadow), u16 status, i64 timestamp µs,
/// i64 latency µs, i64 queue µs, i64 compute µs, i64 bytes in, i64 bytes out, u32 batch size,
/// then five strings (request id, tenant, key id, deployment, version), each u16 length + UTF-8.
extension UsageEvent {
    /// Longest identifier kept; longer ones are cut at encoding (ids are short by construction).
    public static let maxFieldBytes = 1024

    static let binaryFormat: UInt8 = 1

    /// Appends the encoding of `self` to `out`.
    public func encode(into out: inout [UInt8]) {
        let size = encodedSize
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: size))
        out.withUnsafeMutableBytes { raw in _ = encode(to: raw.baseAddress! + start) }
    }

    /// Bytes `encode` writes.
    public var encodedSize: Int {
        Self.fixedBytes + 10 + Self.fieldBytes(requestID) + Self.fieldBytes(tenantID) + Self.fieldBytes(apiKeyID)
            + Self.fieldBytes(deployment) + Self.fieldBytes(version)
    }

    /// Writes the encoding at `out` (room for `encodedSize` bytes) and returns the bytes written.
    /// Stores straight into the buffer: this runs once per metered request on the gateway's path.
    public func encode(to out: UnsafeMutableRawPointer) -> Int {
        out.storeBytes(of: Self.binaryFormat, as: UInt8.self)
        out.storeBytes(of: shadow ? 1 : 0, toByteOffset: 1, as: UInt8.self)
        out.storeBytes(of: UInt16(clamping: status).littleEndian, toByteOffset: 2, as: UInt16.self)
        out.storeBytes(of: timestampMicros.littleEndian, toByteOffset: 4, as: Int64.self)
        out.storeBytes(of: latencyMicros.littleEndian, toByteOffset: 12, as: Int64.self)
        out.storeBytes(of: queueMicros.littleEndian, toByteOffset: 20, as: Int64.self)
        out.storeBytes(of: computeMicros.littleEndian, toByteOffset: 28, as: Int64.self)
        out.storeBytes(of: bytesIn.littleEndian, toByteOffset: 36, as: Int64.self)
        out.storeBytes(of: bytesOut.littleEndian, toByteOffset: 44, as: Int64.self)
        out.storeBytes(of: UInt32(clamping: batchSize).littleEndian, toByteOffset: 52, as: UInt32.self)
        var at = Self.fixedBytes
        at = Self.putString(requestID, out, at)
        at = Self.putString(tenantID, out, at)
        at = Self.putString(apiKeyID, out, at)
        at = Self.putString(deployment, out, at)
        return Self.putString(version, out, at)
    }

    /// Bytes before the strings: format, flags, status, six i64 and the batch size.
    static let fixedBytes = 1 + 1 + 2 + 6 * 8 + 4

    /// UTF-8 bytes a field keeps: all of it, or at most `maxFieldBytes` cut before a scalar.
    private static func fieldBytes(_ s: String) -> Int {
        let count = s.utf8.count
        guard count > maxFieldBytes else { return count }
        var n = maxFieldBytes
        let utf8 = Array(s.utf8.prefix(maxFieldBytes + 1))
        // Never cut inside a scalar: back up to the start of the scalar that crosses the limit.
        while n > 0 && utf8[n] & 0xC0 == 0x80 { n -= 1 }
        return n
    }

    /// u16 length + UTF-8 at `at`; returns the offset after it.
    private static func putString(_ s: String, _ out: UnsafeMutableRawPointer, _ at: Int) -> Int {
        let n = fieldBytes(s)
        out.storeBytes(of: UInt16(n).littleEndian, toByteOffset: at, as: UInt16.self)
        guard n > 0 else { return at + 2 }
        var s = s
        // One copy from the string's contiguous UTF-8 (the iterator went byte by byte).
        s.withUTF8 { utf8 in (out + at + 2).copyMemory(from: utf8.baseAddress!, byteCount: n) }
        return at + 2 + n
    }

    /// The encoding of `self`.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(80 + requestID.utf8.count + tenantID.utf8.count + deployment.utf8.count + 32)
        encode(into: &out)
        return out
    }

    /// Decodes one event; nil when `bytes` is not exactly one well-formed format-1 event.
    public static func decode(_ bytes: ArraySlice<UInt8>) -> UsageEvent? {
        var r = Reader(bytes: bytes)
        guard r.u(1) == UInt64(binaryFormat), let flags = r.u(1), let status = r.u(2),
            let ts = r.u(8), let latency = r.u(8), let queue = r.u(8), let compute = r.u(8),
            let bytesIn = r.u(8), let bytesOut = r.u(8), let batch = r.u(4),
            let requestID = r.string(), let tenantID = r.string(), let keyID = r.string(),
            let deployment = r.string(), let version = r.string(), r.atEnd
        else { return nil }
        return UsageEvent(
            requestID: requestID, tenantID: tenantID, apiKeyID: keyID, deployment: deployment, version: version,
            status: Int(status), latencyMicros: Int64(bitPattern: latency), queueMicros: Int64(bitPattern: queue),
            computeMicros: Int64(bitPattern: compute), bytesIn: Int64(bitPattern: bytesIn),
            bytesOut: Int64(bitPattern: bytesOut), batchSize: Int(batch), shadow: flags & 1 != 0,
            timestampMicros: Int64(bitPattern: ts))
    }


    private struct Reader {
        let bytes: ArraySlice<UInt8>
        var index: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            index = bytes.startIndex
        }

        var atEnd: Bool { index == bytes.endIndex }

        mutating func u(_ n: Int) -> UInt64? {
            guard bytes.endIndex - index >= n else { return nil }
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[index + i]) << (8 * UInt64(i)) }
            index += n
            return v
        }

        mutating func string() -> String? {
            guard let n = u(2), n <= UInt64(UsageEvent.maxFieldBytes), bytes.endIndex - index >= Int(n) else {
                return nil
            }
            let slice = bytes[index..<index + Int(n)]
            index += Int(n)
            // Usage fields are ASCII ids and names in practice: decoded straight from the buffer
            // (the generic validating initializer over a slice was most of the folder's time).
            return slice.withUnsafeBufferPointer { raw in
                raw.allSatisfy { $0 < 0x80 }
                    ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
            }
        }
    }
}
