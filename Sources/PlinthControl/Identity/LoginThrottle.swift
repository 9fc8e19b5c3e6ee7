import Foundation
import Synchronization

/// Counts failed logins per username and per client address and locks either out for a while once
/// it has failed too often. Checked before any password is hashed, so a flood of guesses costs
/// no PBKDF2 work.
final class LoginThrottle: Sendable {
    private struct Entry {
        var failures: Int
        var lockedUntil: Double
        var lastFailure: Double
    }

    private let state = Mutex<[String: Entry]>([:])
    private let maxPerUser: Int
    private let maxPerAddress: Int
    private let lockout: Double

    init(maxPerUser: Int, maxPerAddress: Int, lockout: Duration) {
        self.maxPerUser = max(1, maxPerUser)
        self.maxPerAddress = max(1, maxPerAddress)
        self.lockout = Double(lockout.components.seconds) + Double(lockout.components.attoseconds) / 1e18
    }

    private static func now() -> Double { Date().timeIntervalSince1970 }

    /// Seconds to wait when `username` or `address` is locked out, nil when a login may be tried.
    func retryAfter(username: String, address: String) -> Int? {
        let now = Self.now()
        return state.withLock { entries in
            var wait = 0.0
            for key in ["u:" + username, "a:" + address] {
                if let entry = entries[key], entry.lockedUntil > now { wait = max(wait, entry.lockedUntil - now) }
            }
            return wait > 0 ? max(1, Int(wait.rounded(.up))) : nil
        }
    }

    func recordFailure(username: String, address: String) {
        let now = Self.now()
        state.withLock { entries in
            for (key, limit) in [("u:" + username, maxPerUser), ("a:" + address, maxPerAddress)] {
                var entry = entries[key] ?? Entry(failures: 0, lockedUntil: 0, lastFailure: now)
                // Failures older than the lockout window are forgotten.
                if now - entry.lastFailure > lockout { entry.failures = 0 }
                entry.failures += 1
                entry.lastFailure = now
                if entry.failures >= limit {
                    entry.lockedUntil = now + lockout
                    entry.failures = 0
                }
                entries[key] = entry
            }
            if entries.count > 100_000 { entries = entries.filter { $0.value.lockedUntil > now } }
        }
    }

    func recordSuccess(username: String) {
        _ = state.withLock { $0.removeValue(forKey: "u:" + username) }
    }
}
