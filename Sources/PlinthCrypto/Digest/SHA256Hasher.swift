import COpenSSL

/// Incremental SHA-256 for data that arrives in pieces (uploads).
///
/// Not thread-safe: one hasher per stream. `finalize()` returns the digest and resets the hasher
/// so it can hash a new stream.
public final class SHA256Hasher {
    private let ctx: OpaquePointer

    public init() {
        guard let ctx = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a digest context") }
        self.ctx = ctx
        reset()
    }

    deinit { EVP_MD_CTX_free(ctx) }

    private func reset() {
        precondition(EVP_MD_CTX_copy_ex(ctx, Algorithms.sha256Template.pointer) == 1, "EVP SHA-256 init failed")
    }

    /// Feeds `bytes` into the hash.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count) == 1, "EVP SHA-256 update failed")
    }

    /// Feeds `bytes` into the hash.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds the UTF-8 bytes of `s` into the hash.
    public func update(_ s: String) {
        var copy = s
        copy.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest of everything fed since creation or the last `finalize()`; resets the hasher.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: SHA256.byteCount)
        var length: UInt32 = 0
        let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(ctx, $0.baseAddress, &length) }
        precondition(ok == 1 && length == 32, "EVP SHA-256 final failed")
        reset()
        return out
    }
}
