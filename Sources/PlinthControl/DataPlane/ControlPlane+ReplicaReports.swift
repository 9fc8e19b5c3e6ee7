import Foundation
import PlinthCore
import PlinthStore

/// An instance class's limits as the scheduler applies them to a replica.
public struct InstanceClassLimits: Sendable, Equatable {
    public var name: String
    public var vcpus: Double
    public var memoryBytes: Int64
    public var gpuCount: Int
    public var gpuKind: String?

    public init(name: String, vcpus: Double, memoryBytes: Int64, gpuCount: Int, gpuKind: String?) {
        self.name = name
        self.vcpus = vcpus
        self.memoryBytes = memoryBytes
        self.gpuCount = gpuCount
        self.gpuKind = gpuKind
    }
}

/// A replica's state as a worker reports it, stored for the deployment status API.
public struct ReplicaStatusRecord: Sendable, Equatable {
    public var tenant: String
    public var deployment: String
    public var replica: String
    public var model: String
    public var version: String
    /// pending, starting, ready, draining, failed.
    public var state: String
    public var reason: String?
    /// The GPUs its placement holds (persisted, restored after a control-plane restart).
    public var gpuIndices: [Int]

    public init(
        tenant: String, deployment: String, replica: String, model: String, version: String, state: String,
        reason: String?, gpuIndices: [Int] = []
    ) {
        self.tenant = tenant
        self.deployment = deployment
        self.replica = replica
        self.model = model
        self.version = version
        self.state = state
        self.reason = reason
        self.gpuIndices = gpuIndices
    }
}

extension ControlPlane {
    /// The instance class catalogue by name.
    public func instanceClassLimits() throws -> [String: InstanceClassLimits] {
        try store.read { db in
            var out: [String: InstanceClassLimits] = [:]
            for row in try db.query("SELECT name, vcpus, memory_bytes, gpu_count, gpu_kind FROM instance_classes") {
                let name = try row.string("name")
                out[name] = InstanceClassLimits(
                    name: name, vcpus: try row.double("vcpus"), memoryBytes: try row.int64("memory_bytes"),
                    gpuCount: try row.int("gpu_count"), gpuKind: row.optionalString("gpu_kind"))
            }
            return out
        }
    }

    /// Replaces worker `worker`'s replica rows with `records`; a replica entering `failed` or
    /// becoming ready also leaves a deployment event. Rows of deleted deployments are skipped.
    public func recordReplicaReports(_ records: [ReplicaStatusRecord], worker: String) throws {
        let now = Int64(Date().timeIntervalSince1970)
        try store.write { db in
            var previous: [String: String] = [:]
            for row in try db.query("SELECT tenant, deployment, replica, state FROM replica_status WHERE worker = ?", worker) {
                previous[try row.string("tenant") + "/" + row.string("deployment") + "/" + row.string("replica")] =
                    try row.string("state")
            }
            try db.execute("DELETE FROM replica_status WHERE worker = ?", worker)
            for record in records {
                let exists = try db.queryOne(
                    "SELECT 1 AS one FROM deployments WHERE tenant = ? AND name = ?", record.tenant, record.deployment)
                guard exists != nil else { continue }
                try db.execute(
                    """
                    INSERT OR REPLACE INTO replica_status (tenant, deployment, replica, model, version, worker, state, reason, gpus, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        record.tenant, record.deployment, record.replica, record.model, record.version, worker,
                        record.state, record.reason, record.gpuIndices.map(String.init).joined(separator: ","), now,
                    ] as [any SQLBindable])
                let before = previous[record.tenant + "/" + record.deployment + "/" + record.replica]
                guard before != record.state, record.state == "failed" || record.state == "ready" else { continue }
                let failed = record.state == "failed"
                try Self.appendDeploymentEvent(
                    db, tenant: record.tenant, deployment: record.deployment, type: failed ? "Warning" : "Normal",
                    reason: failed ? "ReplicaFailed" : "ReplicaReady",
                    message: "replica \(record.replica) (\(record.model)/\(record.version)) on \(worker): "
                        + (failed ? (record.reason ?? "failed") : "ready"))
            }
        }
    }
}
