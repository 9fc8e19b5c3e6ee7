import PlinthCrypto

/// PBKDF2-HMAC-SHA256 password hashes with a per-user salt, stored as
/// `pbkdf2-sha256$<iterations>$<salt base64url>$<hash base64url>`.
struct PasswordHasher: Sendable {
    let iterations: Int

    /// A hash of a password nobody knows, verified for unknown usernames so that timing
    /// does not reveal which usernames exist.
    let decoy: String

    init(iterations: Int) {
        self.iterations = max(1, iterations)
        self.decoy =
            "pbkdf2-sha256$\(max(1, iterations))$\(Base64URL.encode(SecureRandom.bytes(16)))$"
            + Base64URL.encode(SecureRandom.bytes(32))
    }

    func hash(_ password: String) -> String {
        let salt = SecureRandom.bytes(16)
        let derived = PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: iterations, keyLength: 32)
        return "pbkdf2-sha256$\(iterations)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// Checks `password` against a stored hash; a malformed stored hash never verifies.
    func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds > 0,
            rounds <= 10_000_000, let salt = Base64URL.decode(String(parts[2])),
            let expected = Base64URL.decode(String(parts[3])), !expected.isEmpty
        else { return false }
        let derived = PBKDF2.sha256(
            password: Array(password.utf8), salt: salt, iterations: rounds, keyLength: expected.count)
        return constantTimeEquals(derived, expected)
    }
}
