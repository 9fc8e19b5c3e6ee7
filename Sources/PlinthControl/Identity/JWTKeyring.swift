import Foundation
import PlinthCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// HS256 signing keys kept in `<data>/jwt.key` (mode 0600), one `<kid> <base64url secret>` per line.
/// The first line signs; every line verifies, so a rotated-out key keeps working until removed.
struct JWTKeyring: Sendable {
    struct Key: Sendable {
        var kid: String
        var secret: [UInt8]
    }

    let keys: [Key]
    let verifier: JWTVerifier

    var signingKey: Key { keys[0] }

    init(keys: [Key]) {
        self.keys = keys
        self.verifier = JWTVerifier(
            keys: keys.map { JWTKey.hs256(secret: $0.secret, kid: $0.kid) }, issuer: "plinth", leeway: 5)
    }

    /// Loads the keyring, generating a fresh key file with 0600 permissions when there is none.
    static func loadOrCreate(path: String) throws -> JWTKeyring {
        if !FileManager.default.fileExists(atPath: path) {
            let kid = Hex.encode(SecureRandom.bytes(6))
            let line = "\(kid) \(Base64URL.encode(SecureRandom.bytes(32)))\n"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                let bytes = Array(line.utf8)
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                fsync(fd)
                close(fd)
                guard written == bytes.count else { throw ControlPlaneError.keyFile("could not write \(path)") }
            } else if errno != EEXIST {
                throw ControlPlaneError.keyFile("could not create \(path): errno \(errno)")
            }
        }
        // Refuse a key file others can read: the signing secret would be exposed.
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            chmod(path, 0o600)
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ControlPlaneError.keyFile("could not read \(path)")
        }
        var keys: [Key] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let secret = Base64URL.decode(String(parts[1])), secret.count >= 32 else {
                throw ControlPlaneError.keyFile("malformed line in \(path)")
            }
            keys.append(Key(kid: String(parts[0]), secret: secret))
        }
        guard !keys.isEmpty else { throw ControlPlaneError.keyFile("\(path) holds no key") }
        return JWTKeyring(keys: keys)
    }
}
