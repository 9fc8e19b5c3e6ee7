import PlinthCore
import Synchronization

/// How many replicas of one deployment are in one state, for `plinth_replicas`.
public struct ReplicaCensusEntry: Sendable, Equatable {
    public var tenant: String
    public var deployment: String
    /// pending, starting, ready, draining, failed, stopped (as in the deployment status API).
    public var state: String
    public var count: Int
}

/// A replica that became ready after starting, as a worker reported it (a cold start).
public struct ReplicaColdStart: Sendable, Equatable {
    public var tenant: String
    public var deployment: String
    public var replica: String
    public var worker: String
    /// From process start to the first ready probe, as the worker's supervisor measured it.
    public var seconds: Double
}

extension ControlPlane {
    /// Replicas by deployment and state, from the rows the scheduler last wrote for each worker
    /// and for unplaced replicas (the same view as `GET …/status`), without touching the database.
    public func replicaCensus() -> [ReplicaCensusEntry] {
        loadWorkersIfNeeded()
        var counts: [String: ReplicaCensusEntry] = [:]
        cluster.state.withLock { state in
            let records = state.workers.values.flatMap { $0.written ?? [] } + (state.writtenUnplaced ?? [])
            for record in records {
                let key = record.tenant + "/" + record.deployment + "/" + record.state
                counts[
                    key,
                    default: ReplicaCensusEntry(
                        tenant: record.tenant, deployment: record.deployment, state: record.state, count: 0)
                ].count += 1
            }
        }
        return counts.values.sorted { ($0.tenant, $0.deployment, $0.state) < ($1.tenant, $1.deployment, $1.state) }
    }

    /// Cold starts in a heartbeat: replicas now ready with a start-up time that were not ready
    /// (or ran another process) in the worker's previous heartbeat. The first heartbeat after a
    /// (re-)registration only sets the baseline, so a control-plane restart does not count
    /// replicas that were already serving. Called with the cluster lock held.
    static func coldStarts(
        previous: [String: ReplicaReport], beat: Heartbeat, baseline: Bool, worker: String,
        wanted: [String: WantedReplica]
    ) -> [ReplicaColdStart] {
        guard !baseline else { return [] }
        var out: [ReplicaColdStart] = []
        for report in beat.replicas where report.phase == .ready {
            guard let millis = report.startupMillis, let replica = wanted[report.id] else { continue }
            if let before = previous[report.id], before.phase == .ready, before.restarts == report.restarts {
                continue
            }
            out.append(
                ReplicaColdStart(
                    tenant: replica.deployment.tenant, deployment: replica.deployment.name, replica: report.id,
                    worker: worker, seconds: Double(max(0, millis)) / 1000))
        }
        return out
    }
}
