import Foundation
import PlinthCore

/// A worker as GET /v1/workers shows it to admins.
struct WorkerView: Codable, Sendable {
    struct Resources: Codable, Sendable {
        var cpuMillicores: Int
        var memoryBytes: UInt64
        var gpus: Int
    }

    struct ReplicaView: Codable, Sendable {
        var id: String
        var tenant: String
        var deployment: String
        var model: String
        var version: String
        /// From the worker's last report; `pending` until it reports the replica.
        var phase: String
        var restarts: Int
        var endpoint: String?
        var reason: String?
        var message: String?
        var gpuIndices: [Int]
    }

    var id: String
    var name: String
    /// `ready` (heard from within the grace period) or `missing`.
    var state: String
    var agentVersion: String
    var capacity: NodeCapacity
    /// What the placed replicas reserve.
    var allocated: Resources
    var isolation: IsolationLevel
    /// `full`, `partial` or `minimal`.
    var isolationGrade: String
    var registeredAt: Date
    var lastHeartbeatAt: Date?
    var usage: NodeUsage?
    var generation: Int
    var appliedGeneration: Int
    var replicas: [ReplicaView]
    /// The node's data-plane forwarder (`plinth worker --data-listen`); nil: Unix sockets only.
    var dataEndpoint: String?
    /// Its counters from the last heartbeat.
    var dataPlane: DataPlaneCounters?
}
