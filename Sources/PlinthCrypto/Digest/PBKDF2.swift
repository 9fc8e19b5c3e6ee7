import COpenSSL

/// PBKDF2 (RFC 8018) with HMAC-SHA256 for password hashing.
///
/// Costly by design (~111 ms at 600 000 iterations here): never call it on an event loop, and
/// throttle failed attempts before hashing.
public enum PBKDF2 {
    /// Derives `keyLength` bytes from `password` and `salt`.
    /// - Precondition: `iterations` ≥ 1 and ≤ Int32.max, `keyLength` in 1…1 MiB (caller's
    ///   configuration, not user input).
    public static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, keyLength: Int) -> [UInt8] {
        precondition(iterations >= 1 && iterations <= Int(Int32.max), "PBKDF2 iterations out of range")
        precondition(keyLength >= 1 && keyLength <= 1 << 20, "PBKDF2 key length out of range")
        var out = [UInt8](repeating: 0, count: keyLength)
        let ok = password.withUnsafeBytes { p in
            salt.withUnsafeBytes { s in
                out.withUnsafeMutableBufferPointer { o in
                    PKCS5_PBKDF2_HMAC(
                        p.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(p.count),
                        s.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(s.count),
                        Int32(iterations), Algorithms.sha256.pointer, Int32(keyLength), o.baseAddress)
                }
            }
        }
        precondition(ok == 1, "PKCS5_PBKDF2_HMAC failed")
        return out
    }
}
