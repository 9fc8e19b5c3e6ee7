import COpenSSL

/// A loaded public key. `@unchecked Sendable` is safe: an `EVP_PKEY` is not modified after
/// loading and OpenSSL 3 allows concurrent verification with it (each call uses its own context).
final class PublicKey: @unchecked Sendable {
    let pkey: OpaquePointer

    init(pkey: OpaquePointer) { self.pkey = pkey }
    deinit { EVP_PKEY_free(pkey) }

    /// Parses a PEM SubjectPublicKeyInfo.
    static func load(pem: String) throws(JWTKeyError) -> PublicKey {
        let bytes = Array(pem.utf8)
        guard !bytes.isEmpty, bytes.count < 64 * 1024 else { throw .invalidPEM }
        let pkey: OpaquePointer? = bytes.withUnsafeBytes { buf in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        ERR_clear_error()
        guard let pkey else { throw .invalidPEM }
        return PublicKey(pkey: pkey)
    }

    /// Verifies `signature` over `message` with SHA-256 (PKCS#1 v1.5 for RSA, DER ECDSA for EC).
    func verifySHA256(signature: [UInt8], message: ArraySlice<UInt8>) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit_ex(ctx, nil, "SHA256", nil, nil, pkey, nil) == 1 else {
            ERR_clear_error()
            return false
        }
        let rc = signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                EVP_DigestVerify(ctx, sig.baseAddress, sig.count, msg.baseAddress, msg.count)
            }
        }
        if rc != 1 { ERR_clear_error() }
        return rc == 1
    }
}

/// A verification key, bound to exactly one algorithm so a token can never pick how its
/// signature is checked (the HS256-with-an-RSA-public-key confusion attack).
public struct JWTKey: Sendable {
    enum Material: Sendable {
        case secret([UInt8])
        case publicKey(PublicKey)
    }

    /// The only algorithm this key verifies.
    public let algorithm: JWTAlgorithm
    /// The key id matched against a token's `kid` header.
    public let kid: String?
    let material: Material

    /// An HS256 shared secret (use at least 32 random bytes).
    public static func hs256(secret: [UInt8], kid: String? = nil) -> JWTKey {
        JWTKey(algorithm: .HS256, kid: kid, material: .secret(secret))
    }

    /// An RS256 public key from PEM ("BEGIN PUBLIC KEY"), at least 2048 bits.
    public static func rs256(publicKeyPEM: String, kid: String? = nil) throws -> JWTKey {
        let key = try PublicKey.load(pem: publicKeyPEM)
        guard plinth_pkey_is_rsa(key.pkey) == 1 else { throw JWTKeyError.wrongKeyType(expected: "RSA") }
        let bits = Int(EVP_PKEY_get_bits(key.pkey))
        guard bits >= 2048 else { throw JWTKeyError.keyTooShort(bits: bits) }
        return JWTKey(algorithm: .RS256, kid: kid, material: .publicKey(key))
    }

    /// An ES256 public key from PEM ("BEGIN PUBLIC KEY"), on curve P-256.
    public static func es256(publicKeyPEM: String, kid: String? = nil) throws -> JWTKey {
        let key = try PublicKey.load(pem: publicKeyPEM)
        guard EVP_PKEY_is_a(key.pkey, "EC") == 1 else { throw JWTKeyError.wrongKeyType(expected: "EC") }
        guard plinth_pkey_is_p256(key.pkey) == 1 else { throw JWTKeyError.wrongCurve }
        return JWTKey(algorithm: .ES256, kid: kid, material: .publicKey(key))
    }

    /// Whether `signature` is valid for `signingInput` under this key and its algorithm.
    func verify(signature: [UInt8], signingInput: ArraySlice<UInt8>) -> Bool {
        switch (algorithm, material) {
        case (.HS256, .secret(let secret)):
            let expected = signingInput.withUnsafeBytes { msg in
                secret.withUnsafeBytes { HMAC.sha256(key: $0, message: msg) }
            }
            return constantTimeEquals(expected, signature)
        case (.RS256, .publicKey(let key)):
            return key.verifySHA256(signature: signature, message: signingInput)
        case (.ES256, .publicKey(let key)):
            guard let der = ECDSASignature.derFromRaw(signature) else { return false }
            return key.verifySHA256(signature: der, message: signingInput)
        default:
            return false
        }
    }
}
