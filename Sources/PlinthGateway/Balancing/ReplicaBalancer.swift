import Synchronization

/// Picks a replica of one deployment version: the ready replica with the fewest outstanding
/// requests, ties broken round-robin. A replica reported failed is skipped at once, until the
/// control plane (or a health check) marks it healthy again.
public final class ReplicaBalancer: Sendable {
    /// One replica as the balancer sees it.
    public struct ReplicaLoad: Sendable, Equatable {
        public let id: String
        public var outstanding: Int
        public var failed: Bool
    }

    private struct State: ~Copyable {
        var replicas: [ReplicaLoad] = []
        var rotation = 0
    }

    private let state = Mutex(State())

    public init(replicas: [String] = []) {
        update(replicas: replicas)
    }

    /// Sets the ready replicas (from the control plane). Counters of kept replicas survive;
    /// a replica listed again is considered healthy.
    public func update(replicas ids: [String]) {
        state.withLock { state in
            let old = Dictionary(state.replicas.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            var seen = Set<String>()
            state.replicas = ids.compactMap { id in
                guard seen.insert(id).inserted else { return nil }
                return ReplicaLoad(id: id, outstanding: old[id]?.outstanding ?? 0, failed: false)
            }
        }
    }

    /// Chooses a replica and counts one more outstanding request on it; nil when none is usable.
    /// Call `finish` exactly once for every replica returned.
    public func pick(excluding excluded: Set<String> = []) -> String? {
        state.withLock { state in
            let n = state.replicas.count
            guard n > 0 else { return nil }
            state.rotation = (state.rotation &+ 1) % n
            var best: Int?
            for k in 0..<n {
                let i = (state.rotation + k) % n
                let r = state.replicas[i]
                guard !r.failed, !excluded.contains(r.id) else { continue }
                if let b = best, state.replicas[b].outstanding <= r.outstanding { continue }
                best = i
            }
            guard let best else { return nil }
            state.replicas[best].outstanding += 1
            return state.replicas[best].id
        }
    }

    /// A request to `id` ended. `failed` (connection refused, reset, crash) takes the replica out
    /// of rotation immediately.
    public func finish(_ id: String, failed: Bool = false) {
        state.withLock { state in
            guard let i = state.replicas.firstIndex(where: { $0.id == id }) else { return }
            state.replicas[i].outstanding = max(0, state.replicas[i].outstanding - 1)
            if failed { state.replicas[i].failed = true }
        }
    }

    /// Takes `id` out of rotation (health check failed, process exited).
    public func markFailed(_ id: String) {
        state.withLock { state in
            if let i = state.replicas.firstIndex(where: { $0.id == id }) { state.replicas[i].failed = true }
        }
    }

    /// Puts `id` back into rotation (it passed a health check again).
    public func markHealthy(_ id: String) {
        state.withLock { state in
            if let i = state.replicas.firstIndex(where: { $0.id == id }) { state.replicas[i].failed = false }
        }
    }

    /// Current replicas with their loads.
    public var replicas: [ReplicaLoad] { state.withLock { $0.replicas } }
}
