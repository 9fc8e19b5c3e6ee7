import Synchronization

/// Per-deployment gateway state (admission gate, balancers, version split), keyed by tenant and
/// deployment name, rebuilt when the directory's `generation` for the deployment changes.
final class DeploymentTable: Sendable {
    private let table = Mutex([String: DeploymentState]())
    private let ejectionNanos: UInt64

    init(ejection: Duration) {
        self.ejectionNanos = GatewayClock.nanoseconds(ejection)
    }

    /// Tenants are part of the key: two tenants' deployments of the same name never share state.
    static func key(_ tenantID: String, _ deployment: String) -> String {
        tenantID + "\u{1F}" + deployment
    }

    func state(tenantID: String, route: DeploymentRoute) -> DeploymentState {
        let key = DeploymentTable.key(tenantID, route.name)
        return table.withLock { table in
            if let existing = table[key], existing.generation == route.generation { return existing }
            // Keep the admission gate across changes that leave the limits alone, so requests
            // already admitted still count against the cap.
            let old = table[key]
            let gate: ConcurrencyGate
            if let old, old.gate.capacity == route.maxConcurrency, old.gate.queueCapacity == route.maxQueue {
                gate = old.gate
            } else {
                gate = ConcurrencyGate(capacity: route.maxConcurrency, queueCapacity: route.maxQueue)
            }
            let state = DeploymentState(route: route, gate: gate, ejectionNanos: ejectionNanos)
            table[key] = state
            return state
        }
    }

    /// The state for a deployment if the gateway has seen it (shadow workers, metrics).
    func existing(_ key: String) -> DeploymentState? {
        table.withLock { $0[key] }
    }
}

/// One deployment as the gateway serves it at one generation.
final class DeploymentState: Sendable {
    let generation: Int
    let gate: ConcurrencyGate
    private let balancers: [ReplicaBalancer]
    let shadowBalancer: ReplicaBalancer
    private let split: VersionSplit

    init(route: DeploymentRoute, gate: ConcurrencyGate, ejectionNanos: UInt64) {
        self.generation = route.generation
        self.gate = gate
        self.balancers = route.versions.map { _ in ReplicaBalancer(ejectionNanos: ejectionNanos) }
        self.shadowBalancer = ReplicaBalancer(ejectionNanos: ejectionNanos)
        self.split = VersionSplit(weights: route.versions.map(\.weight))
    }

    func balancer(_ versionIndex: Int) -> ReplicaBalancer { balancers[versionIndex] }

    /// Index of the version that serves this request: sticky on `routingKey` when given.
    func chooseVersion(routingKey: String?) -> Int? {
        split.choose(routingKey: routingKey)
    }
}
