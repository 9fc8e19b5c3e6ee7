import Synchronization

/// Least-outstanding-requests choice among a version's ready replicas, with ejection of replicas
/// that refused a connection.
final class ReplicaBalancer: Sendable {
    private struct Load: Sendable {
        var outstanding = 0
        var ejectedUntil: UInt64 = 0
    }

    private let loads = Mutex([String: Load]())
    private let rotation = Atomic<Int>(0)
    private let ejectionNanos: UInt64

    init(ejectionNanos: UInt64) {
        self.ejectionNanos = ejectionNanos
    }

    /// Picks a replica and counts a request on it; pair with `release`. Ready, non-ejected replicas
    /// first; when every ready one is ejected, the ejected ones are tried rather than failing.
    func acquire(_ replicas: [ReplicaEndpoint], excluding: String?) -> ReplicaEndpoint? {
        let now = GatewayClock.now()
        let offset = rotation.wrappingAdd(1, ordering: .relaxed).oldValue
        return loads.withLock { loads in
            var best: (index: Int, outstanding: Int, ejected: Bool)?
            let count = replicas.count
            for step in 0..<count {
                // Rotating start: ties go to different replicas on consecutive calls.
                let i = (offset &+ step) % count
                let i2 = i < 0 ? i + count : i
                let replica = replicas[i2]
                guard replica.ready, replica.id != excluding else { continue }
                let load = loads[replica.id] ?? Load()
                let ejected = load.ejectedUntil > now
                if let current = best {
                    if (current.ejected && !ejected) || (current.ejected == ejected && load.outstanding < current.outstanding) {
                        best = (i2, load.outstanding, ejected)
                    }
                } else {
                    best = (i2, load.outstanding, ejected)
                }
            }
            guard let chosen = best else { return nil }
            let replica = replicas[chosen.index]
            loads[replica.id, default: Load()].outstanding += 1
            return replica
        }
    }

    func release(_ id: String) {
        loads.withLock { loads in
            if var load = loads[id] {
                load.outstanding = max(0, load.outstanding - 1)
                loads[id] = load
            }
        }
    }

    /// Leaves the replica out for the ejection period.
    func eject(_ id: String) {
        let until = GatewayClock.now() + ejectionNanos
        loads.withLock { $0[id, default: Load()].ejectedUntil = until }
    }

    /// Requests in flight on a replica (tests, metrics).
    func outstanding(_ id: String) -> Int {
        loads.withLock { $0[id]?.outstanding ?? 0 }
    }
}
