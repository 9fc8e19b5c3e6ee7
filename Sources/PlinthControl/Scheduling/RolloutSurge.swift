import Foundation

/// A replica of an outgoing definition, kept running while its replacements start.
struct RetiringReplica: Sendable {
    var replica: WantedReplica
    var since: Date
}

/// Rollouts without a gap: when a deployment's definition changes, its new replicas get new ids
/// and the old ones would leave every worker's desired set at once. Instead they are kept
/// (where they run, only if capacity is left after the new ones are placed) until every new
/// replica of the deployment is ready, the deployment is deleted, or `maxSeconds` pass.
enum RolloutSurge {
    static let maxSeconds: Double = 300

    /// Replicas that left the wanted set this pass join `retiring`; those whose deployment is gone,
    /// whose replacements are all ready, or that waited too long leave it.
    static func update(
        _ retiring: inout [String: RetiringReplica], previousIDs: Set<String>, previous: [String: WantedReplica],
        wanted: [String: WantedReplica], placed: Set<String>, readyNew: [String: Int], now: Date
    ) {
        var wantedPerDeployment: [String: Int] = [:]
        for replica in wanted.values { wantedPerDeployment[replica.demand.deploymentKey, default: 0] += 1 }
        for id in previousIDs where wanted[id] == nil && retiring[id] == nil && placed.contains(id) {
            guard let replica = previous[id] else { continue }
            retiring[id] = RetiringReplica(replica: replica, since: now)
        }
        retiring = retiring.filter { id, entry in
            let key = entry.replica.demand.deploymentKey
            guard wanted[id] == nil, let want = wantedPerDeployment[key] else { return false }
            return readyNew[key, default: 0] < want && now.timeIntervalSince(entry.since) < maxSeconds
        }
    }
}
