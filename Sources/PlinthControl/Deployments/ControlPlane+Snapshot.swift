import PlinthCore
import PlinthStore

extension ControlPlane {
    /// Reads keys, tenants, users and deployments (resolved to artifacts) in one read transaction.
    func buildState(version: Int64) throws -> ControlState {
        try store.read { db in
            var snapshot = RoutingSnapshot(version: version)
            for row in try db.query("SELECT name, suspended, max_rps FROM tenants") {
                let name = try row.string("name")
                snapshot.tenants[name] = RoutingTenant(
                    name: name, suspended: try row.bool("suspended"), maxRequestsPerSecond: row.optionalInt("max_rps"))
            }
            for row in try db.query(
                "SELECT id, tenant, role, deployments, secret_sha256, expires_at FROM api_keys WHERE revoked_at IS NULL"
            ) {
                guard let role = Role(rawValue: try row.string("role")) else { continue }
                let id = try row.string("id")
                snapshot.apiKeys[id] = RoutingAPIKey(
                    id: id, secretSHA256: try row.blob("secret_sha256"), tenant: try row.string("tenant"), role: role,
                    deployments: JSONColumn.decodeStringArray(row.optionalString("deployments")),
                    expiresAt: row.optionalInt64("expires_at"))
            }
            var versions: [String: RoutingVersion] = [:]
            for row in try db.query(
                """
                SELECT v.tenant, v.model, v.version, v.sha256, v.signature, v.runtime, m.format FROM model_versions v
                JOIN models m ON m.tenant = v.tenant AND m.name = v.model
                WHERE v.state = 'ready' AND EXISTS (SELECT 1 FROM deployment_versions d
                    WHERE d.tenant = v.tenant AND d.model = v.model AND d.version = v.version)
                """)
            {
                let sha = try row.string("sha256")
                let key = try row.string("tenant") + "/" + row.string("model") + "/" + row.string("version")
                versions[key] = RoutingVersion(
                    model: try row.string("model"), version: try row.string("version"), weight: 0,
                    format: try row.string("format"), sha256: sha, artifactPath: blobs.path(for: sha),
                    signature: JSONColumn.decode(ArtifactSignature.self, row.optionalString("signature")),
                    runtime: JSONColumn.decode(RuntimeManifest.self, row.optionalString("runtime")))
            }
            for row in try db.query("SELECT tenant, name, revision, spec FROM deployments") {
                let tenant = try row.string("tenant")
                let name = try row.string("name")
                guard let spec = JSONColumn.decode(DeploymentSpec.self, row.optionalString("spec")) else { continue }
                let weighted = spec.versions.compactMap { v -> RoutingVersion? in
                    guard var resolved = versions[tenant + "/" + v.model + "/" + v.version] else { return nil }
                    resolved.weight = v.weight ?? 1
                    return resolved
                }
                let shadow = spec.shadow.flatMap { versions[tenant + "/" + $0.model + "/" + $0.version] }
                snapshot.deployments[tenant, default: [:]][name] = RoutingDeployment(
                    tenant: tenant, name: name, revision: try row.int("revision"), versions: weighted, shadow: shadow,
                    instanceClass: spec.instanceClass, minReplicas: spec.minReplicas ?? 1,
                    maxReplicas: spec.maxReplicas ?? 1,
                    maxBatchSize: spec.batching?.maxBatchSize ?? DeploymentSpec.defaultMaxBatchSize,
                    maxQueueDelayMicros: spec.batching?.maxQueueDelayMicros ?? DeploymentSpec.defaultQueueDelayMicros,
                    requestTimeoutMillis: spec.requestTimeoutMillis ?? DeploymentSpec.defaultTimeoutMillis,
                    maxPayloadBytes: spec.maxPayloadBytes ?? DeploymentSpec.defaultMaxPayloadBytes,
                    targetConcurrency: spec.autoscaling?.targetConcurrency ?? DeploymentSpec.defaultTargetConcurrency,
                    shadowPercent: spec.shadow?.percent,
                    payloadLogging: spec.payloadLogging.map {
                        PayloadLoggingPolicy(
                            sampleRate: $0.sampleRate,
                            retentionHours: $0.retentionHours ?? DeploymentSpec.defaultPayloadRetentionHours,
                            maxBytes: Int64($0.maxMegabytes ?? DeploymentSpec.defaultPayloadMaxMegabytes) << 20)
                    })
            }
            return ControlState(snapshot: snapshot, identity: try IdentityIndex.load(db: db, snapshot: snapshot))
        }
    }
}
