/// Compact little-endian encoding of a `UsageEvent`, the payload of one journal record.
///
/// Layout (format 1): u8 format, u8 flags (bit 0 = shadow), u16 status, i64 timestamp µs,
/// i64 latency µs, i64 queue µs, i64 compute µs, i64 bytes in, i64 bytes out, u32 batch size,
/// then five strings (request id, tenant, key id, deployment, version), each u16 length + UTF-8.
extension UsageEvent {
    /// Longest identifier kept; longer ones are cut at encoding (ids are short by construction).
    public static let maxFieldBytes = 1024

    static let binaryFormat: UInt8 = 1

    /// Appends the encoding of `self` to `out`. Written field by field into reserved room, with no
    /// temporary arrays: this runs once per metered request on the gateway's path.
    public func encode(into out: inout [UInt8]) {
        out.reserveCapacity(out.count + Self.fixedBytes + 10 + requestID.utf8.count + tenantID.utf8.count
            + apiKeyID.utf8.count + deployment.utf8.count + version.utf8.count)
        out.append(Self.binaryFormat)
        out.append(shadow ? 1 : 0)
        Self.put(UInt64(UInt16(clamping: status)), bytes: 2, &out)
        Self.put(UInt64(bitPattern: timestampMicros), bytes: 8, &out)
        Self.put(UInt64(bitPattern: latencyMicros), bytes: 8, &out)
        Self.put(UInt64(bitPattern: queueMicros), bytes: 8, &out)
        Self.put(UInt64(bitPattern: computeMicros), bytes: 8, &out)
        Self.put(UInt64(bitPattern: bytesIn), bytes: 8, &out)
        Self.put(UInt64(bitPattern: bytesOut), bytes: 8, &out)
        Self.put(UInt64(UInt32(clamping: batchSize)), bytes: 4, &out)
        Self.putString(requestID, &out)
        Self.putString(tenantID, &out)
        Self.putString(apiKeyID, &out)
        Self.putString(deployment, &out)
        Self.putString(version, &out)
    }

    /// Bytes before the strings: format, flags, status, six i64 and the batch size.
    static let fixedBytes = 1 + 1 + 2 + 6 * 8 + 4

    /// u16 length + UTF-8, cut at `maxFieldBytes` but never inside a scalar.
    private static func putString(_ s: String, _ out: inout [UInt8]) {
        let count = s.utf8.count
        guard count > maxFieldBytes else {
            put(UInt64(count), bytes: 2, &out)
            out.append(contentsOf: s.utf8)
            return
        }
        var utf8 = Array(s.utf8.prefix(maxFieldBytes))
        while let last = utf8.last, last & 0xC0 == 0x80 { utf8.removeLast() }
        if let last = utf8.last, last >= 0xC0 { utf8.removeLast() }
        put(UInt64(utf8.count), bytes: 2, &out)
        out.append(contentsOf: utf8)
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

    @inline(__always)
    private static func put(_ v: UInt64, bytes: Int, _ out: inout [UInt8]) {
        var le = v.littleEndian
        withUnsafeBytes(of: &le) { out.append(contentsOf: $0.prefix(bytes)) }
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
            return String(validating: slice, as: UTF8.self)
        }
    }
}
