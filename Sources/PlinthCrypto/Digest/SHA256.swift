import COpenSSL

/// SHA-256 (FIPS 180-4) through OpenSSL: one-shot hashes use its low-level interface (no EVP
/// overhead on short inputs); `SHA256Hasher` streams through EVP.
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
        [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
            plinth_sha256(buffer.baseAddress, buffer.count, out.baseAddress)
            count = byteCount
        }
    }

    /// The SHA-256 digest of the UTF-8 bytes of `s` as four words, without an array (a cache key
    /// hashed and compared word by word).
    public static func words(_ s: String) -> (UInt64, UInt64, UInt64, UInt64) {
        var out: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var copy = s
        copy.withUTF8 { bytes in
            withUnsafeMutableBytes(of: &out) { plinth_sha256(bytes.baseAddress, bytes.count, $0.baseAddress) }
        }
        return out
    }

    /// Lower-case hex of the SHA-256 digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(hash(bytes)) }

    /// Lower-case hex of the SHA-256 digest of the UTF-8 bytes of `s`.
    public static func hex(_ s: String) -> String { Hex.encode(hash(s)) }
}
