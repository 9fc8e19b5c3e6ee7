import PlinthStore

/// What a worker (or the scheduler) reports about one replica; shown by GET .../status.
public struct ReplicaReport: Sendable, Hashable {
    public var tenant: String
    public var deployment: String
    public var replica: String
    public var model: String
    public var version: String
    public var worker: String
    /// Free text; "ready" replicas count as ready ("starting", "failed", "draining", ...).
    public var state: String
    public var reason: String?

    public init(
        tenant: String, deployment: String, replica: String, model: String, version: String, worker: String,
        state: String, reason: String? = nil
    ) {
        self.tenant = tenant
        self.deployment = deployment
        self.replica = replica
        self.model = model
        self.version = version
        self.worker = worker
        self.state = state
        self.reason = reason
    }
}

extension ControlPlane {
    /// Records (inserts or replaces) a replica's state. Ignored when the deployment no longer
    /// exists (a late report after deletion), which returns false.
    @discardableResult
    public func reportReplica(_ report: ReplicaReport) throws -> Bool {
        try store.write { db in
            guard
                try db.queryOne(
                    "SELECT 1 AS one FROM deployments WHERE tenant = ? AND name = ?", report.tenant, report.deployment)
                    != nil
            else { return false }
            try db.execute(
                """
                INSERT INTO replica_status (tenant, deployment, replica, model, version, worker, state, reason, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(tenant, deployment, replica) DO UPDATE SET model = excluded.model,
                    version = excluded.version, worker = excluded.worker, state = excluded.state,
                    reason = excluded.reason, updated_at = excluded.updated_at
                """, report.tenant, report.deployment, report.replica, report.model, report.version, report.worker,
                report.state, report.reason, Authenticator.now())
            return true
        }
    }

    /// Forgets a replica that stopped for good.
    public func removeReplica(tenant: String, deployment: String, replica: String) throws {
        try store.write { db in
            try db.execute(
                "DELETE FROM replica_status WHERE tenant = ? AND deployment = ? AND replica = ?", tenant, deployment,
                replica)
        }
    }

    /// Appends an event to a deployment's history (type "Normal" or "Warning"); the status
    /// route shows the latest 20. Older events beyond 200 per deployment are pruned.
    public func recordDeploymentEvent(
        tenant: String, deployment: String, type: String, reason: String, message: String
    ) throws {
        try store.write { db in
            guard
                try db.queryOne("SELECT 1 AS one FROM deployments WHERE tenant = ? AND name = ?", tenant, deployment)
                    != nil
            else { return }
            try db.execute(
                """
                INSERT INTO deployment_events (tenant, deployment, time, type, reason, message)
                VALUES (?, ?, ?, ?, ?, ?)
                """, tenant, deployment, Authenticator.now(), type, reason, String(message.prefix(1024)))
            try db.execute(
                """
                DELETE FROM deployment_events WHERE tenant = ? AND deployment = ? AND id <= (
                    SELECT id FROM deployment_events WHERE tenant = ? AND deployment = ?
                    ORDER BY id DESC LIMIT 1 OFFSET 200)
                """, tenant, deployment, tenant, deployment)
        }
    }
}
