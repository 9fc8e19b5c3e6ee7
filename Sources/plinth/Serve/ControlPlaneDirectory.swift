import Foundation
import PlinthControl
import PlinthCore
import PlinthGateway
import PlinthHTTP
import Synchronization

/// The gateway's directory in `plinth serve`: credentials are checked by the control plane's
/// in-memory identity index (no query per request; Basic is cached and throttled before any
/// hashing); tenants' switches come from the routing snapshot; routes from the control plane's
/// view of every worker's ready replicas (local and remote alike), rebuilt by `refresh()`.
final class ControlPlaneDirectory: GatewayDirectory {
    let control: ControlPlane
    private let table = Mutex(Table())

    private struct Table {
        var routes: [DeploymentKey: DeploymentRoute] = [:]
        var fingerprints: [DeploymentKey: String] = [:]
        var generation = 0
    }

    init(control: ControlPlane) {
        self.control = control
    }

    func authenticate(_ credential: GatewayCredential, remoteAddress: String) throws -> GatewayPrincipal {
        let presented: PresentedCredential
        var keyID: String?
        switch credential {
        case .apiKey(let id, let secret):
            presented = .apiKey(id: id, secret: secret)
            keyID = id
        case .bearer(let token): presented = .bearer(token: token)
        case .basic(let user, let password): presented = .basic(user: user, password: password)
        }
        let found: Principal
        do {
            found = try control.identify(presented, remoteAddress: remoteAddress)
        } catch {
            switch error {
            case .invalid: throw GatewayAuthError.invalid
            case .suspended: throw GatewayAuthError.suspended
            case .throttled(let seconds): throw GatewayAuthError.throttled(retryAfter: seconds)
            }
        }
        guard let tenant = found.tenant else {
            throw GatewayAuthError.forbidden("platform admins have no tenant; call with a tenant's credential")
        }
        switch found.role {
        case .owner, .developer, .invoker: break
        case .viewer: throw GatewayAuthError.forbidden("role viewer may not invoke deployments")
        case .admin: throw GatewayAuthError.forbidden("platform admins have no tenant")
        }
        let info = control.routingSnapshot().tenants[tenant]
        if info?.suspended ?? true { throw GatewayAuthError.suspended }
        return GatewayPrincipal(
            tenantID: tenant, tenantName: tenant, keyID: keyID, subject: found.name, role: found.role.rawValue,
            deploymentScope: found.deployments,
            tenantRequestsPerSecond: info?.maxRequestsPerSecond.map(Double.init), keyRequestsPerSecond: nil)
    }

    func route(tenantID: String, deployment: String) -> DeploymentRoute? {
        table.withLock { $0.routes[DeploymentKey(tenantID: tenantID, deployment: deployment)] }
    }

    /// Rebuilds the routing table from the snapshot and the ready replicas; a deployment's route
    /// generation changes only when its versions or replica set changed.
    func refresh() {
        let snapshot = control.routingSnapshot()
        var endpoints: [String: [ReplicaEndpoint]] = [:]
        // Ready replicas of outgoing definitions, by deployment then version label.
        var retiring: [String: [String: [ReplicaEndpoint]]] = [:]
        for record in control.readyReplicaEndpoints() {
            guard let parsed = try? HTTPEndpoint(url: record.endpoint) else { continue }
            // Remote replicas come with their node's data-plane secret; local ones are sockets.
            // Pipelined only to a local `plinth runtime`: an external runtime may answer
            // pipelined requests one by one, or not at all. (A remote node's forwarder would take
            // them too; not measured yet, so remote replicas get a request per socket.)
            let replica = ReplicaEndpoint(
                id: record.replica, endpoint: parsed, ready: true, dataSecret: record.dataSecret,
                pipelined: record.format == "onnx" && record.dataSecret == nil)
            if record.retiring {
                retiring[record.tenant + "/" + record.deployment, default: [:]][record.version, default: []].append(
                    replica)
            }
            endpoints[
                [record.tenant, record.deployment, record.model, record.version].joined(separator: "/"), default: []
            ]
            .append(replica)
        }
        var routes: [DeploymentKey: DeploymentRoute] = [:]
        var fingerprints: [DeploymentKey: String] = [:]
        for (tenant, deployments) in snapshot.deployments {
            for deployment in deployments.values {
                func versionRoute(_ v: RoutingVersion) -> VersionRoute {
                    VersionRoute(
                        version: v.version, weight: v.weight,
                        replicas: endpoints[[tenant, deployment.name, v.model, v.version].joined(separator: "/")] ?? [],
                        modelName: deployment.name)
                }
                var versions = deployment.versions.map(versionRoute)
                // A rollout to another version: until a new replica is ready, the outgoing ones
                // keep serving, under their own version label.
                if versions.allSatisfy({ $0.replicas.isEmpty }), let old = retiring[tenant + "/" + deployment.name] {
                    let current = Set(deployment.versions.map(\.version))
                    // The new versions stay callable by name but take no share until they serve.
                    versions = versions.map {
                        VersionRoute(version: $0.version, weight: 0, replicas: [], modelName: $0.modelName)
                    }
                    for (label, replicas) in old.sorted(by: { $0.key < $1.key }) where !current.contains(label) {
                        versions.append(
                            VersionRoute(version: label, weight: 1, replicas: replicas, modelName: deployment.name))
                    }
                }
                let shadow = deployment.shadow.map(versionRoute)
                let ready = max(1, versions.reduce(0) { $0 + $1.replicas.count })
                let concurrency = max(16, ready * max(deployment.maxBatchSize, deployment.targetConcurrency) * 2)
                let key = DeploymentKey(tenantID: tenant, deployment: deployment.name)
                routes[key] = DeploymentRoute(
                    name: deployment.name, versions: versions, shadow: shadow,
                    requestTimeout: .milliseconds(max(1, deployment.requestTimeoutMillis)),
                    maxPayloadBytes: deployment.maxPayloadBytes, maxConcurrency: concurrency,
                    maxQueue: concurrency * 4, shadowPercent: deployment.shadowPercent ?? 100,
                    payloadLogging: deployment.payloadLogging)
                fingerprints[key] =
                    "\(snapshot.version)|"
                    + (versions + (shadow.map { [$0] } ?? [])).map {
                        "\($0.version):\($0.weight):"
                            + $0.replicas.map { "\($0.id)@\($0.endpoint):\($0.dataSecret?.suffix(8) ?? "")" }.joined(
                                separator: ",")
                    }.joined(separator: ";")
            }
        }
        table.withLock { t in
            for (key, var route) in routes {
                if t.fingerprints[key] != fingerprints[key] {
                    t.generation += 1
                    route.generation = t.generation
                } else {
                    route.generation = t.routes[key]?.generation ?? t.generation
                }
                routes[key] = route
            }
            t.routes = routes
            t.fingerprints = fingerprints
        }
    }
}
