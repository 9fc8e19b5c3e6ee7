import Foundation
import PlinthStore
import Synchronization

/// Collects API key uses in memory and writes last_used_at in one batch every flush interval,
/// so a busy key costs no write per request. Uses within the last interval are lost on a crash.
final class KeyUsageRecorder: Sendable {
    private struct State {
        var pending: [String: Int64] = [:]
        var lastFlush: Double = Date().timeIntervalSince1970
    }

    private let state = Mutex(State())
    private let interval: Double

    init(interval: Duration) {
        self.interval = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
    }

    /// Notes a use now; writes the batch when the interval has passed.
    func touch(_ keyID: String, store: Store) {
        let now = Date().timeIntervalSince1970
        let due: [String: Int64]? = state.withLock { s in
            s.pending[keyID] = Int64(now)
            guard now - s.lastFlush >= interval else { return nil }
            s.lastFlush = now
            defer { s.pending = [:] }
            return s.pending
        }
        if let due { write(due, store: store) }
    }

    /// Writes whatever is pending now.
    func flush(store: Store) {
        let due = state.withLock { s in
            s.lastFlush = Date().timeIntervalSince1970
            defer { s.pending = [:] }
            return s.pending
        }
        write(due, store: store)
    }

    private func write(_ uses: [String: Int64], store: Store) {
        guard !uses.isEmpty else { return }
        _ = try? store.write { db in
            for (id, time) in uses {
                try db.execute(
                    "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                    time, id, time)
            }
        }
    }
}
