/// Converts JWS ECDSA signatures (raw big-endian r||s) to the DER `ECDSA-Sig-Value` OpenSSL wants.
enum ECDSASignature {
    /// DER `SEQUENCE { INTEGER r, INTEGER s }` for a 64-byte P-256 r||s; nil for any other length
    /// or a zero r or s.
    static func derFromRaw(_ raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64 else { return nil }
        guard let r = integer(raw[0..<32]), let s = integer(raw[32..<64]) else { return nil }
        // At most 2 × 35 bytes of content: the short length form always fits.
        return [0x30, UInt8(r.count + s.count)] + r + s
    }

    /// One DER INTEGER for an unsigned big-endian value: minimal, with a 0x00 when the high bit is set.
    private static func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        let trimmed = bytes.drop { $0 == 0 }
        guard let first = trimmed.first else { return nil }
        var content = Array(trimmed)
        if first & 0x80 != 0 { content.insert(0, at: 0) }
        return [0x02, UInt8(content.count)] + content
    }
}
