import COpenSSL

/// SHA-256 (FIPS 180-4) through OpenSSL, with the algorithm fetched once and contexts reused.
public enum SHA256 {
    /// Digest length in bytes.
    public static let byteCount = 32

    /// The SHA-256 digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The SHA-256 digest of the UTF-8 bytes of `s`.
    public static func hash(_ s: String) -> [UInt8] {
        var copy = s
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// The SHA-256 digest of a raw buffer.
    public static func hash(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        Algorithms.digestContexts.with(free: { EVP_MD_CTX_free($0) }) { ctx in
            var out = [UInt8](repeating: 0, count: byteCount)
            var ok = EVP_MD_CTX_copy_ex(ctx, Algorithms.sha256Template.pointer) == 1
            if buffer.count > 0 { ok = ok && EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count) == 1 }
            var length: UInt32 = 0
            ok = ok && out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(ctx, $0.baseAddress, &length) } == 1
            // Only fails on allocation failure or a broken OpenSSL; nothing sensible to return.
            precondition(ok && length == 32, "EVP SHA-256 failed")
            return out
        }
    }

    /// Lower-case hex of the SHA-256 digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(hash(bytes)) }

    /// Lower-case hex of the SHA-256 digest of the UTF-8 bytes of `s`.
    public static func hex(_ s: String) -> String { Hex.encode(hash(s)) }
}
