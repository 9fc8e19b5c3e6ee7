import Foundation
import PlinthCore
import Synchronization

/// The control plane's live view of its workers: what each offers and reports, which replica is
/// placed where, and what each worker was last told to run. In memory (the gateway reads it per
/// routing refresh); registrations are also kept in the `workers` table.
final class Cluster: Sendable {
    let settings: WorkerSettings
    let state = Mutex(ClusterState())
    /// Serialises reconciliation passes, so their database writes land in order.
    let reconciling = Mutex(0)
    let backgroundStarted = Atomic<Bool>(false)

    init(settings: WorkerSettings) {
        self.settings = settings
    }
}

/// One registered worker.
struct WorkerEntry: Sendable {
    var id: String
    var name: String
    /// The node token it registered with; nil for the in-process worker of `plinth serve`.
    var tokenID: String?
    var agentVersion: String
    var capacity: NodeCapacity
    var isolation: IsolationLevel
    var registeredAt: Date
    var lastHeartbeat: Date?
    var lastPersisted: Date = .distantPast
    var sequence = 0
    var appliedGeneration = 0
    var usage: NodeUsage?
    /// The latest report of each replica the worker runs, by id.
    var reports: [String: PlinthCore.ReplicaReport] = [:]
    /// What it was last told to run, and that set's generation.
    var desired: [DesiredReplica] = []
    var generation = 0
    /// Its data-plane forwarder ("http://host:port") and the secret issued to it at registration
    /// (in memory only: after a control-plane restart the node registers again for a new one).
    var dataEndpoint: String?
    var dataSecret: String?
    var dataPlane: DataPlaneCounters?
    /// The replica_status rows last written for it (nil: none written yet).
    var written: [ReplicaStatusRecord]?

    func isReady(now: Date, missingAfter: Double) -> Bool {
        guard let lastHeartbeat else { return false }
        return now.timeIntervalSince(lastHeartbeat) <= missingAfter
    }
}

struct ClusterState: Sendable {
    var loaded = false
    var workers: [String: WorkerEntry] = [:]
    /// Replica id → where it is placed.
    var assignments: [String: Placement] = [:]
    /// Placements read from `replica_status` at start, taken over when their worker reports the
    /// replica (they carry the GPU indices, which the worker's report does not).
    var recovered: [String: Placement] = [:]
    /// Replica id → the replica (wanted or retiring), as of the last pass.
    var wanted: [String: WantedReplica] = [:]
    /// Ids wanted by the deployments in the last pass (without retiring ones).
    var wantedIDs: Set<String> = []
    /// Replicas of outgoing definitions kept until their replacements are ready.
    var retiring: [String: RetiringReplica] = [:]
    /// Replica id → why it is not placed.
    var unschedulable: [String: String] = [:]
    /// Deployment key → the unschedulable reasons last announced as an event.
    var announced: [String: String] = [:]
    var writtenUnplaced: [ReplicaStatusRecord]?
    /// Catalogue data re-read when the routing snapshot's version changes.
    var catalogueVersion: Int64 = .min
    var classes: [String: InstanceClassLimits] = [:]
    var quotas: [String: ReplicaQuota] = [:]
    var artifactSizes: [String: UInt64] = [:]
    /// Worker ids last seen ready (to log a worker going missing once).
    var readyWorkers: Set<String> = []

    func worker(named name: String) -> WorkerEntry? {
        workers.values.first { $0.name == name }
    }
}
