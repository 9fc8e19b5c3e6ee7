import COpenSSL

/// HMAC (RFC 2104) with SHA-256, through OpenSSL's EVP_MAC with pooled contexts.
public enum HMAC {
    /// HMAC-SHA256 of `message` under `key` (32 bytes).
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in sha256(key: k, message: m) }
        }
    }

    /// HMAC-SHA256 over raw buffers.
    public static func sha256(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> [UInt8] {
        Algorithms.macContexts.with(free: { EVP_MAC_CTX_free($0) }) { ctx in
            var out = [UInt8](repeating: 0, count: SHA256.byteCount)
            var ok =
                plinth_hmac_rekey(
                    ctx, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count) == 1
            if message.count > 0 {
                ok =
                    ok
                    && EVP_MAC_update(ctx, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count) == 1
            }
            var length = 0
            ok = ok && out.withUnsafeMutableBufferPointer { EVP_MAC_final(ctx, $0.baseAddress, &length, 32) } == 1
            precondition(ok && length == 32, "EVP HMAC-SHA256 failed")
            return out
        }
    }
}
