import PlinthCore
import PlinthCrypto

/// One replica the current deployments want: its demand on a worker, plus what a worker needs
/// to run it (deployment settings and the version's artifact).
public struct WantedReplica: Sendable, Equatable {
    public var demand: ReplicaDemand
    public var deployment: RoutingDeployment
    public var version: RoutingVersion
    public var shadow: Bool

    public var id: String { demand.id }

    /// Every replica of every deployment in `snapshot`, sorted by id. Instance classes missing from
    /// `classes` fall back to 1 vCPU and 2 GiB.
    public static func all(in snapshot: RoutingSnapshot, classes: [String: InstanceClassLimits]) -> [WantedReplica] {
        var out: [WantedReplica] = []
        for deployments in snapshot.deployments.values {
            for deployment in deployments.values {
                let limits = classes[deployment.instanceClass]
                for (version, count, shadow) in replicaCounts(deployment) {
                    for index in 0..<count {
                        let demand = ReplicaDemand(
                            id: replicaID(deployment: deployment, version: version, index: index),
                            tenant: deployment.tenant, deployment: deployment.name, model: version.model,
                            version: version.version,
                            cpuMillicores: max(100, Int(((limits?.vcpus ?? 1) * 1000).rounded())),
                            memoryBytes: UInt64(max(64 << 20, limits?.memoryBytes ?? (2 << 30))),
                            gpus: max(0, limits?.gpuCount ?? 0), gpuKind: limits?.gpuKind)
                        out.append(
                            WantedReplica(demand: demand, deployment: deployment, version: version, shadow: shadow))
                    }
                }
            }
        }
        return out.sorted { $0.id < $1.id }
    }

    /// Replicas per version: `minReplicas` split by weight (at least one for a weighted version),
    /// one for a shadow. A deployment with `minReplicas` 0 runs nothing until scale-from-zero lands.
    public static func replicaCounts(_ deployment: RoutingDeployment) -> [(RoutingVersion, Int, Bool)] {
        guard deployment.minReplicas > 0 else { return [] }
        let total = deployment.versions.reduce(0) { $0 + max(0, $1.weight) }
        var out: [(RoutingVersion, Int, Bool)] = []
        for version in deployment.versions where version.weight > 0 && total > 0 {
            let share = Double(deployment.minReplicas) * Double(version.weight) / Double(total)
            out.append((version, max(1, Int(share.rounded())), false))
        }
        if let shadow = deployment.shadow { out.append((shadow, 1, true)) }
        return out
    }

    /// Stable for an unchanged definition; any change to what the replica runs gives a new id, so
    /// a worker never mistakes a new definition for the replica it already runs.
    public static func replicaID(deployment: RoutingDeployment, version: RoutingVersion, index: Int) -> String {
        let definition: [String] = [
            deployment.tenant, deployment.name, version.model, version.version, version.sha256, version.format,
            deployment.instanceClass, String(deployment.maxBatchSize), String(deployment.maxQueueDelayMicros),
            String(deployment.maxPayloadBytes),
        ]
        // Only external versions add to the definition, so onnx replica ids stay as they were.
        let manifest =
            version.runtime.map { runtime in
                runtime.command + (runtime.env ?? [:]).sorted { $0.key < $1.key }.map { $0.key + "=" + $0.value }
            } ?? []
        let text = (definition + (manifest.isEmpty ? [] : ["runtime"] + manifest)).joined(separator: "\u{1}")
        return "r" + String(Hex.encode(SHA256.hash(text)).prefix(12)) + "-" + String(index)
    }

    /// The replica as a worker receives it in its `DesiredState`. The artifact is named after
    /// the deployment, so the built-in runtime serves it under the deployment's name. An external
    /// version carries its manifest's argv (with `{artifact}` for the worker to fill) and env.
    public func desired(placement: Placement, artifactSizeBytes: UInt64) -> DesiredReplica {
        DesiredReplica(
            id: id, tenant: deployment.tenant, deployment: deployment.name, version: version.version,
            format: version.format,
            artifact: ArtifactReference(
                sha256: version.sha256, sizeBytes: artifactSizeBytes,
                downloadPath: "/v1/workers/artifacts/" + version.sha256,
                fileName: deployment.name + (version.format == "onnx" ? ".onnx" : ".model")),
            command: version.format == "external" ? version.runtime?.command : nil,
            limits: InstanceLimits(
                instanceClass: deployment.instanceClass, cpuMillicores: demand.cpuMillicores,
                memoryBytes: demand.memoryBytes, gpus: demand.gpus),
            gpuIndices: placement.gpuIndices,
            environment: version.format == "external" ? version.runtime?.env ?? [:] : [:],
            runtime: RuntimeSettings(
                maxBatchSize: max(1, deployment.maxBatchSize),
                maxQueueDelayMicros: max(0, deployment.maxQueueDelayMicros),
                maxBodyBytes: max(1024, deployment.maxPayloadBytes)))
    }
}
