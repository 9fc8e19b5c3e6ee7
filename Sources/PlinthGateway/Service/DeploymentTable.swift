import PlinthHTTP
import Synchronization

/// A deployment of a tenant, as a dictionary key. Tenants are part of it, so two tenants'
/// deployments of the same name never share state; two fields rather than one joined String,
/// which cost an allocation per request.
public struct DeploymentKey: Hashable, Sendable {
    public let tenantID: String
    public let deployment: String

    public init(tenantID: String, deployment: String) {
        self.tenantID = tenantID
        self.deployment = deployment
    }
}

/// Per-deployment gateway state (admission, balancers, traffic split), keyed by tenant and
/// deployment name, rebuilt when the directory's `generation` for the deployment changes.
final class DeploymentTable: Sendable {
    private let table = Mutex([DeploymentKey: DeploymentState]())
    private let ejectionNanos: UInt64
    private let clients: ReplicaClients

    init(ejection: Duration, clients: ReplicaClients) {
        self.ejectionNanos = GatewayClock.nanoseconds(ejection)
        self.clients = clients
    }

    func state(tenantID: String, route: DeploymentRoute) -> DeploymentState {
        let key = DeploymentKey(tenantID: tenantID, deployment: route.name)
        return table.withLock { table in
            if let existing = table[key], existing.generation == route.generation { return existing }
            let state = DeploymentState(
                route: route, previous: table[key], ejectionNanos: ejectionNanos,
                clients: clients.clientSet(timeout: route.requestTimeout))
            table[key] = state
            return state
        }
    }
}

/// One deployment as the gateway serves it at one generation.
final class DeploymentState: Sendable {
    let generation: Int
    let admission: AdmissionController
    let versions: [VersionBalancer]
    let shadow: VersionBalancer?
    /// nil when no version has weight.
    let split: TrafficSplit?
    /// Clients with this deployment's request timeout as read timeout.
    let clients: [HTTPClient]

    init(route: DeploymentRoute, previous: DeploymentState?, ejectionNanos: UInt64, clients: [HTTPClient]) {
        generation = route.generation
        self.clients = clients
        // Keep the controller (and what it has admitted) across route changes; only the caps move.
        if let previous {
            admission = previous.admission
            admission.update(maxConcurrent: max(1, route.maxConcurrency), maxQueued: max(0, route.maxQueue))
        } else {
            admission = AdmissionController(
                maxConcurrent: max(1, route.maxConcurrency), maxQueued: max(0, route.maxQueue),
                maxQueueWait: route.requestTimeout)
        }
        versions = route.versions.map { version in
            VersionBalancer(
                version, previous: previous?.versions.first { $0.version == version.version },
                ejectionNanos: ejectionNanos)
        }
        shadow = route.shadow.map { VersionBalancer($0, previous: previous?.shadow, ejectionNanos: ejectionNanos) }
        split = try? TrafficSplit(route.versions.map { TrafficSplit.Target(version: $0.version, weight: $0.weight) })
    }

    /// Index of the version that serves this request: sticky on `routingKey` when given.
    func chooseVersion(routingKey: String?) -> Int? {
        guard let split else { return nil }
        let version = split.pick(routingKey: routingKey.flatMap { $0.isEmpty ? nil : $0 })
        return versions.firstIndex { $0.version == version }
    }
}

/// The ready replicas of one version behind a least-outstanding `ReplicaBalancer`. A replica
/// that refused a connection is out at once and comes back after the ejection period (or when
/// the directory lists it again in a new generation).
final class VersionBalancer: Sendable {
    let version: String
    let balancer: ReplicaBalancer
    private let endpoints: [String: ReplicaEndpoint]
    private let ejected = Mutex([String: UInt64]())
    /// Earliest re-admission time, 0 when nothing is ejected: keeps the common path lock-free.
    private let nextReadmission = Atomic<UInt64>(0)
    private let ejectionNanos: UInt64

    init(_ route: VersionRoute, previous: VersionBalancer?, ejectionNanos: UInt64) {
        version = route.version
        self.ejectionNanos = ejectionNanos
        let ready = route.replicas.filter(\.ready)
        endpoints = Dictionary(ready.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Reuse the balancer so outstanding counts survive a route change.
        balancer = previous?.balancer ?? ReplicaBalancer()
        balancer.update(replicas: ready.map(\.id))
    }

    /// A replica (counted as outstanding: pair with `finish`), nil when none is usable.
    func acquire(excluding: String?) -> ReplicaEndpoint? {
        readmitExpired()
        let excluded: Set<String> = excluding.map { [$0] } ?? []
        guard let id = balancer.pick(excluding: excluded) else { return nil }
        guard let endpoint = endpoints[id] else {
            balancer.finish(id)
            return nil
        }
        return endpoint
    }

    func finish(_ id: String, refused: Bool) {
        balancer.finish(id, failed: refused)
        guard refused else { return }
        let until = GatewayClock.now() + ejectionNanos
        ejected.withLock { $0[id] = until }
        let current = nextReadmission.load(ordering: .relaxed)
        if current == 0 || until < current { nextReadmission.store(until, ordering: .relaxed) }
    }

    private func readmitExpired() {
        let next = nextReadmission.load(ordering: .relaxed)
        guard next != 0, GatewayClock.now() >= next else { return }
        let now = GatewayClock.now()
        let back: [String] = ejected.withLock { table in
            let due = table.filter { $0.value <= now }.map(\.key)
            for id in due { table[id] = nil }
            nextReadmission.store(table.values.min() ?? 0, ordering: .relaxed)
            return due
        }
        for id in back { balancer.markHealthy(id) }
    }
}
