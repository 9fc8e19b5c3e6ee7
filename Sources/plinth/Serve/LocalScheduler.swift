import Foundation
import PlinthControl
import PlinthCore
import PlinthCrypto
import PlinthGateway
import PlinthHTTP
import PlinthWorker
import Synchronization

/// The single-node scheduler of `plinth serve`: turns every deployment in the control plane's
/// routing snapshot into replicas on the in-process worker, reports their states back to the
/// control plane, and keeps the gateway's routing table (ready replica endpoints) current.
/// Multi-node placement belongs to the control plane's scheduler (data-plane issue).
final class LocalScheduler: Sendable {
    static let workerName = "local"

    let control: ControlPlane
    let supervisor: ReplicaSupervisor
    let plinthBinary: String
    let replicasDirectory: String
    let interval: Duration
    private let logger = Logger(component: "scheduler")
    private let state = Mutex(State())

    private struct State {
        var routes: [String: DeploymentRoute] = [:]
        var fingerprints: [String: String] = [:]
        var generation = 0
        var lastReports: [ReplicaStatusRecord] = []
        var stopping = false
    }

    private struct Placement {
        var tenant: String
        var deployment: String
        var version: RoutingVersion
    }

    init(control: ControlPlane, supervisor: ReplicaSupervisor, plinthBinary: String, interval: Duration = .milliseconds(200)) {
        self.control = control
        self.supervisor = supervisor
        self.plinthBinary = plinthBinary
        self.replicasDirectory = supervisor.sandbox.replicasDirectory
        self.interval = interval
    }

    /// Starts the scheduling thread.
    func start() {
        let thread = Thread { [self] in
            while !state.withLock({ $0.stopping }) {
                tick()
                Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
            }
        }
        thread.name = "plinth-scheduler"
        thread.start()
    }

    func stop() {
        state.withLock { $0.stopping = true }
    }

    /// The gateway's view of `tenant`'s deployment `name`.
    func route(tenant: String, deployment name: String) -> DeploymentRoute? {
        state.withLock { $0.routes[tenant + "/" + name] }
    }

    /// One reconciliation pass.
    func tick() {
        let snapshot = control.routingSnapshot()
        let classes = (try? control.instanceClassLimits()) ?? [:]
        var launches: [ReplicaLaunch] = []
        var placements: [String: Placement] = [:]
        var idsByVersion: [String: [String]] = [:]
        for (tenant, deployments) in snapshot.deployments {
            for deployment in deployments.values {
                for (version, count) in Self.replicaCounts(deployment) {
                    for index in 0..<count {
                        let id = Self.replicaID(deployment: deployment, version: version, index: index)
                        guard let launch = launch(id: id, deployment: deployment, version: version, classes: classes)
                        else { continue }
                        launches.append(launch)
                        placements[id] = Placement(tenant: tenant, deployment: deployment.name, version: version)
                        idsByVersion[Self.versionKey(tenant, deployment.name, version), default: []].append(id)
                    }
                }
            }
        }
        supervisor.reconcile(launches)
        let snapshots = Dictionary(supervisor.snapshot().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        publishRoutes(snapshot: snapshot, snapshots: snapshots, idsByVersion: idsByVersion)
        report(placements: placements, snapshots: snapshots)
    }

    /// Replicas per version: `minReplicas` split by weight (at least one for a weighted version),
    /// one for a shadow. A deployment with `minReplicas` 0 runs nothing until scale-from-zero lands.
    static func replicaCounts(_ deployment: RoutingDeployment) -> [(RoutingVersion, Int)] {
        guard deployment.minReplicas > 0 else { return [] }
        let total = deployment.versions.reduce(0) { $0 + max(0, $1.weight) }
        var out: [(RoutingVersion, Int)] = []
        for version in deployment.versions where version.weight > 0 && total > 0 {
            let share = Double(deployment.minReplicas) * Double(version.weight) / Double(total)
            out.append((version, max(1, Int(share.rounded()))))
        }
        if let shadow = deployment.shadow { out.append((shadow, 1)) }
        return out
    }

    /// Stable for an unchanged definition; any change to what the replica runs gives a new id, so
    /// the new replica starts before the old one is stopped.
    static func replicaID(deployment: RoutingDeployment, version: RoutingVersion, index: Int) -> String {
        let definition = [
            deployment.tenant, deployment.name, version.model, version.version, version.sha256, version.format,
            deployment.instanceClass, String(deployment.maxBatchSize), String(deployment.maxQueueDelayMicros),
            String(deployment.maxPayloadBytes),
        ].joined(separator: "\u{1}")
        return "r" + String(Hex.encode(SHA256.hash(definition)).prefix(12)) + "-" + String(index)
    }

    static func versionKey(_ tenant: String, _ deployment: String, _ version: RoutingVersion) -> String {
        tenant + "/" + deployment + "/" + version.model + "/" + version.version
    }

    private func launch(
        id: String, deployment: RoutingDeployment, version: RoutingVersion, classes: [String: InstanceClassLimits]
    ) -> ReplicaLaunch? {
        let instanceClass = classes[deployment.instanceClass]
        let limits = InstanceLimits(
            instanceClass: deployment.instanceClass,
            cpuMillicores: max(100, Int((instanceClass?.vcpus ?? 1) * 1000)),
            memoryBytes: UInt64(max(64 << 20, instanceClass?.memoryBytes ?? (2 << 30))),
            gpus: instanceClass?.gpuCount ?? 0)
        let planner = ReplicaPlanner(
            runtimeCommand: [
                plinthBinary, "runtime", "--name", deployment.name, "--version", version.version,
                "--max-batch", String(max(1, deployment.maxBatchSize)),
                "--max-delay-us", String(max(0, deployment.maxQueueDelayMicros)),
                "--max-body-bytes", String(max(1024, deployment.maxPayloadBytes)),
            ],
            replicasDirectory: replicasDirectory)
        let desired = DesiredReplica(
            id: id, tenant: deployment.tenant, deployment: deployment.name, version: version.version,
            format: version.format,
            artifact: ArtifactReference(
                sha256: version.sha256, sizeBytes: 0, downloadPath: "", fileName: "model.onnx"),
            limits: limits)
        do {
            return try planner.launch(for: desired, artifactPath: version.artifactPath)
        } catch {
            logger.warning("replica not planned", ["replica": .string(id), "error": .string("\(error)")])
            return nil
        }
    }

    private func publishRoutes(
        snapshot: RoutingSnapshot, snapshots: [String: ReplicaSnapshot], idsByVersion: [String: [String]]
    ) {
        var routes: [String: DeploymentRoute] = [:]
        var fingerprints: [String: String] = [:]
        for (tenant, deployments) in snapshot.deployments {
            for deployment in deployments.values {
                func versionRoute(_ v: RoutingVersion) -> VersionRoute {
                    let replicas = (idsByVersion[Self.versionKey(tenant, deployment.name, v)] ?? []).compactMap {
                        id -> ReplicaEndpoint? in
                        guard let snap = snapshots[id], snap.phase == .ready, let endpoint = snap.endpoint,
                            let parsed = try? HTTPEndpoint(url: endpoint)
                        else { return nil }
                        return ReplicaEndpoint(id: id, endpoint: parsed, ready: true)
                    }
                    return VersionRoute(
                        version: v.version, weight: v.weight, replicas: replicas, modelName: deployment.name)
                }
                let versions = deployment.versions.map(versionRoute)
                let shadow = deployment.shadow.map(versionRoute)
                let ready = max(1, versions.reduce(0) { $0 + $1.replicas.count })
                let concurrency = max(16, ready * max(deployment.maxBatchSize, deployment.targetConcurrency) * 2)
                var route = DeploymentRoute(
                    name: deployment.name, versions: versions, shadow: shadow,
                    requestTimeout: .milliseconds(max(1, deployment.requestTimeoutMillis)),
                    maxPayloadBytes: deployment.maxPayloadBytes, maxConcurrency: concurrency,
                    maxQueue: concurrency * 4)
                let key = tenant + "/" + deployment.name
                fingerprints[key] =
                    "\(snapshot.version)|" + (versions + (shadow.map { [$0] } ?? [])).map {
                        "\($0.version):\($0.weight):" + $0.replicas.map(\.id).joined(separator: ",")
                    }.joined(separator: ";")
                route.generation = 0
                routes[key] = route
            }
        }
        state.withLock { s in
            for (key, var route) in routes {
                if s.fingerprints[key] != fingerprints[key] { s.generation += 1 }
                route.generation = s.fingerprints[key] == fingerprints[key] ? (s.routes[key]?.generation ?? s.generation) : s.generation
                routes[key] = route
            }
            s.routes = routes
            s.fingerprints = fingerprints
        }
    }

    private func report(placements: [String: Placement], snapshots: [String: ReplicaSnapshot]) {
        var records: [ReplicaStatusRecord] = []
        for (id, placement) in placements.sorted(by: { $0.key < $1.key }) {
            let snap = snapshots[id]
            let condition = snap?.condition
            records.append(
                ReplicaStatusRecord(
                    tenant: placement.tenant, deployment: placement.deployment, replica: id,
                    model: placement.version.model, version: placement.version.version,
                    state: (snap?.phase ?? .pending).rawValue,
                    reason: condition.map { "\($0.reason): \($0.message)" }))
        }
        let changed = state.withLock { s -> Bool in
            defer { s.lastReports = records }
            return s.lastReports != records
        }
        guard changed else { return }
        do {
            try control.recordReplicaReports(records, worker: Self.workerName)
        } catch {
            logger.warning("replica status not recorded", ["error": .string("\(error)")])
        }
    }
}
