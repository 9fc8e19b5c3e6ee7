import Foundation
import PlinthHTTP
import PlinthStore

extension ControlPlane {
    /// Desired replicas come from the spec (minReplicas split by weight, one for a shadow) until a
    /// scheduler exists; ready replicas and replica rows from `replica_status`.
    func deploymentStatus(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("deployment")
        let deployment = try deploymentView(name, tenant: tenant)
        let spec = deployment.spec
        let (replicaRows, eventRows) = try store.read { db in
            (
                try db.query(
                    "SELECT * FROM replica_status WHERE tenant = ? AND deployment = ? ORDER BY replica", tenant, name),
                try db.query(
                    "SELECT * FROM deployment_events WHERE tenant = ? AND deployment = ? ORDER BY id DESC LIMIT 20",
                    tenant, name)
            )
        }
        var replicasByVersion: [String: [DeploymentStatusView.ReplicaView]] = [:]
        for row in replicaRows {
            let key = (row.optionalString("model") ?? "") + "/" + (row.optionalString("version") ?? "")
            replicasByVersion[key, default: []].append(
                DeploymentStatusView.ReplicaView(
                    replica: try row.string("replica"), worker: try row.string("worker"),
                    state: try row.string("state"),
                    reason: row.optionalString("reason"),
                    updatedAt: Date(timeIntervalSince1970: Double(try row.int64("updated_at")))))
        }
        let minimum = spec.minReplicas ?? 0
        let totalWeight = spec.versions.reduce(0) { $0 + ($1.weight ?? 1) }
        var versions: [DeploymentStatusView.VersionStatus] = spec.versions.map { v in
            let weight = v.weight ?? 1
            let desired =
                minimum == 0 || weight == 0 || totalWeight == 0
                ? 0 : max(1, Int((Double(minimum) * Double(weight) / Double(totalWeight)).rounded()))
            let replicas = replicasByVersion[v.model + "/" + v.version] ?? []
            return DeploymentStatusView.VersionStatus(
                model: v.model, version: v.version, weight: weight, shadow: false, desiredReplicas: desired,
                readyReplicas: replicas.filter { $0.state == "ready" }.count, replicas: replicas)
        }
        if let shadow = spec.shadow {
            let replicas = replicasByVersion[shadow.model + "/" + shadow.version] ?? []
            versions.append(
                DeploymentStatusView.VersionStatus(
                    model: shadow.model, version: shadow.version, weight: 0, shadow: true,
                    desiredReplicas: minimum > 0 ? 1 : 0, readyReplicas: replicas.filter { $0.state == "ready" }.count,
                    replicas: replicas))
        }
        let allReady = versions.allSatisfy { $0.readyReplicas >= $0.desiredReplicas }
        // The scheduler's reason for a replica that fits nowhere (worker "").
        let unplaced = replicaRows.lazy.compactMap { $0.optionalString("reason") }.first {
            $0.hasPrefix("Unschedulable") || $0.hasPrefix("QuotaExceeded")
        }
        let anyReady = versions.contains { !$0.shadow && $0.readyReplicas > 0 }
        var conditions = [
            DeploymentStatusView.Condition(
                type: "Available", status: anyReady || minimum == 0,
                reason: anyReady ? "ReplicasReady" : (minimum == 0 ? "ScaledToZero" : "NoReadyReplicas"),
                message: anyReady
                    ? "at least one replica serves traffic"
                    : (minimum == 0 ? "replicas start on the first request" : "waiting for replicas")),
            DeploymentStatusView.Condition(
                type: "Progressing", status: !allReady,
                reason: allReady ? "Complete" : unplaced.map { String($0.prefix { $0 != ":" }) } ?? "ReplicasPending",
                message: allReady ? "every version has its desired replicas" : unplaced ?? "replicas are being started"),
        ]
        conditions += replicaFailures(tenant: tenant, deployment: name)
        let events = try eventRows.map { row in
            DeploymentStatusView.Event(
                time: Date(timeIntervalSince1970: Double(try row.int64("time"))), type: try row.string("type"),
                reason: try row.string("reason"), message: try row.string("message"))
        }
        return .json(
            DeploymentStatusView(
                name: name, revision: deployment.revision, minReplicas: minimum, maxReplicas: spec.maxReplicas ?? 1,
                versions: versions, conditions: conditions, events: events))
    }
}
