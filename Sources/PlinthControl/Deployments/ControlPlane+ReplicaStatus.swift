import PlinthStore

extension ControlPlane {
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
            try Self.appendDeploymentEvent(
                db, tenant: tenant, deployment: deployment, type: type, reason: reason, message: message)
        }
    }

    /// Inserts an event inside the caller's transaction and prunes the history to 200 entries.
    static func appendDeploymentEvent(
        _ db: Connection, tenant: String, deployment: String, type: String, reason: String, message: String
    ) throws {
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
