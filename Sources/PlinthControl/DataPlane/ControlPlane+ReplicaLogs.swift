import Foundation
import PlinthCore
import PlinthHTTP
import Synchronization

/// GET .../deployments/{deployment}/logs: each replica's recent output, as its worker last
/// reported it.
struct ReplicaLogsView: Codable, Sendable {
    struct ReplicaLog: Codable, Sendable {
        var replica: String
        var worker: String
        var model: String
        var version: String
        var phase: String
        var restarts: Int
        /// Oldest first; restarts are marked with a "--- plinth: replica restarted ---" line.
        var lines: [String]
    }
    var tenant: String
    var deployment: String
    var replicas: [ReplicaLog]
}

extension ControlPlane {
    func replicaLogRoutes() -> [RouteDefinition] {
        [
            RouteDefinition(
                .GET, "/v1/tenants/{tenant}/deployments/{deployment}/logs", id: "getDeploymentLogs",
                "Each replica's latest output lines (stdout and stderr), from its worker's last heartbeat.",
                tag: "deployments", access: .tenant(Roles.readers), response: "DeploymentLogs",
                query: ["replica", "lines"]
            ) { [self] context in try deploymentLogs(context) }
        ]
    }

    private func deploymentLogs(_ context: RequestContext) throws -> HTTPResponse {
        let tenant = try context.parameter("tenant")
        let name = try context.parameter("deployment")
        _ = try deploymentView(name, tenant: tenant)  // 404 for another tenant's or a missing one
        var lines = ReplicaReport.maxLogLines
        if let raw = context.request.queryValue("lines") {
            guard let n = Int(raw), n >= 1 else { throw ControlError.badRequest("lines must be a positive integer") }
            lines = min(n, ReplicaReport.maxLogLines)
        }
        let only = context.request.queryValue("replica")
        var logs = replicaLogs(tenant: tenant, deployment: name)
        if let only {
            logs = logs.filter { $0.replica == only }
            guard !logs.isEmpty else { throw ControlError.notFound("replica not found in this deployment") }
        }
        for index in logs.indices { logs[index].lines = Array(logs[index].lines.suffix(lines)) }
        return .json(ReplicaLogsView(tenant: tenant, deployment: name, replicas: logs))
    }

    /// A `ReplicaFailure` condition per replica whose worker reports it failing (crash loop, OOM,
    /// startup timeout…), with its last exit status and output, sorted by replica id.
    func replicaFailures(tenant: String, deployment: String) -> [DeploymentStatusView.Condition] {
        loadWorkersIfNeeded()
        return cluster.state.withLock { state in
            var out: [DeploymentStatusView.Condition] = []
            for (id, placement) in state.assignments {
                guard let wanted = state.wanted[id], wanted.deployment.tenant == tenant,
                    wanted.deployment.name == deployment, let worker = state.workers[placement.workerID],
                    let report = worker.reports[id], let condition = report.condition
                else { continue }
                out.append(
                    DeploymentStatusView.Condition(
                        type: "ReplicaFailure", status: true, reason: condition.reason,
                        message: "replica \(id) (\(wanted.version.model)/\(wanted.version.version)) on \(worker.name): "
                            + condition.message,
                        replica: id, restarts: report.restarts, exitStatus: condition.exitStatus,
                        logTail: Array(condition.logTail.suffix(20))))
            }
            return out.sorted { ($0.replica ?? "") < ($1.replica ?? "") }
        }
    }

    /// The deployment's replicas that a worker reports (placed or retiring), sorted by id.
    func replicaLogs(tenant: String, deployment: String) -> [ReplicaLogsView.ReplicaLog] {
        loadWorkersIfNeeded()
        return cluster.state.withLock { state in
            var out: [ReplicaLogsView.ReplicaLog] = []
            for (id, placement) in state.assignments {
                guard let wanted = state.wanted[id], wanted.deployment.tenant == tenant,
                    wanted.deployment.name == deployment, let worker = state.workers[placement.workerID]
                else { continue }
                let report = worker.reports[id]
                out.append(
                    ReplicaLogsView.ReplicaLog(
                        replica: id, worker: worker.name, model: wanted.version.model,
                        version: wanted.version.version, phase: (report?.phase ?? .pending).rawValue,
                        restarts: report?.restarts ?? 0, lines: report?.logTail ?? []))
            }
            return out.sorted { $0.replica < $1.replica }
        }
    }
}
