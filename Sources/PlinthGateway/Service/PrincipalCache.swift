import PlinthCrypto
import Synchronization

/// Remembers credential → principal for a short time so repeated calls skip the directory.
///
/// Keyed by the SHA-256 of the credential header, so no secret is held in memory. Entries live at
/// most `ttl` (default 1 s): a revoked key or a suspended tenant stops working within that time.
/// Failures are never cached (the directory throttles them). Bounded: when full it starts over.
final class PrincipalCache: Sendable {
    private struct Entry: Sendable {
        var principal: GatewayPrincipal
        var expiresAt: UInt64
    }

    /// A credential's SHA-256 as four words: a `[UInt8]` key was hashed byte by byte (~1 % of the
    /// gateway's CPU under load) and allocated per request.
    struct Key: Hashable, Sendable {
        var a, b, c, d: UInt64
    }

    private let entries = Mutex([Key: Entry]())
    private let ttlNanos: UInt64
    private let capacity: Int

    init(ttl: Duration, capacity: Int = 10_000) {
        self.ttlNanos = GatewayClock.nanoseconds(ttl)
        self.capacity = max(1, capacity)
    }

    /// Hash of a credential header value, the cache key.
    static func key(_ headerValue: String) -> Key {
        let w = SHA256.words(headerValue)
        return Key(a: w.0, b: w.1, c: w.2, d: w.3)
    }

    func lookup(_ key: Key, now: UInt64) -> GatewayPrincipal? {
        guard ttlNanos > 0 else { return nil }
        return entries.withLock { table in
            guard let entry = table[key] else { return nil }
            if entry.expiresAt <= now {
                table[key] = nil
                return nil
            }
            return entry.principal
        }
    }

    func store(_ principal: GatewayPrincipal, for key: Key, now: UInt64) {
        guard ttlNanos > 0 else { return }
        entries.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = Entry(principal: principal, expiresAt: now + ttlNanos)
        }
    }
}
