import Foundation
import Synchronization

/// Remembers verified HTTP Basic credentials briefly, keyed by the SHA-256 of the Authorization
/// header value (never the password itself), so Basic auth on hot paths does not cost a PBKDF2 hash
/// per request. Dropped for a user on password change and for a tenant on suspension.
final class BasicCredentialCache: Sendable {
    struct Entry: Sendable {
        var userID: Int64
        var tenant: String?
        var passwordVersion: Int
        var expiresAt: Double
    }

    private let entries = Mutex<[[UInt8]: Entry]>([:])
    private let lifetime: Double

    init(lifetime: Duration) {
        self.lifetime = Double(lifetime.components.seconds)
    }

    func lookup(_ key: [UInt8]) -> Entry? {
        let now = Date().timeIntervalSince1970
        return entries.withLock { map in
            guard let entry = map[key] else { return nil }
            if entry.expiresAt <= now {
                map.removeValue(forKey: key)
                return nil
            }
            return entry
        }
    }

    func store(_ key: [UInt8], userID: Int64, tenant: String?, passwordVersion: Int) {
        guard lifetime > 0 else { return }
        let now = Date().timeIntervalSince1970
        entries.withLock { map in
            if map.count > 10_000 { map = map.filter { $0.value.expiresAt > now } }
            map[key] = Entry(
                userID: userID, tenant: tenant, passwordVersion: passwordVersion, expiresAt: now + lifetime)
        }
    }

    func invalidate(userID: Int64) {
        entries.withLock { map in map = map.filter { $0.value.userID != userID } }
    }

    func invalidate(tenant: String) {
        entries.withLock { map in map = map.filter { $0.value.tenant != tenant } }
    }
}
