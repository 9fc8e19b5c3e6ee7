import COpenSSL

/// Cryptographically secure random bytes (OpenSSL's DRBG, seeded from the OS).
public enum SecureRandom {
    /// `count` random bytes. Stops the process if the generator fails: continuing with
    /// predictable keys would be worse.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "random byte count out of range")
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { fatalError("RAND_bytes failed: the CSPRNG is unavailable") }
        return out
    }

    /// A URL-safe random token: `byteCount` random bytes in base64url without padding.
    public static func token(_ byteCount: Int) -> String {
        Base64URL.encode(bytes(byteCount))
    }
}

/// Compares two byte strings in time that depends only on their lengths, not their contents.
/// Different lengths compare unequal at once (lengths are not secret here: digests, MACs).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 }
    }
}
