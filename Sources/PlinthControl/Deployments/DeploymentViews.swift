import Foundation
import PlinthCore

/// A deployment as the API shows it: name, current revision and its spec.
struct DeploymentView: Codable, Sendable {
    var name: String
    var tenant: String
    var revision: Int
    var spec: DeploymentSpec
    var labels: [String: String]
    var createdAt: Date
    var updatedAt: Date
}

/// One entry of GET .../revisions.
struct DeploymentRevisionView: Codable, Sendable {
    var revision: Int
    var spec: DeploymentSpec
    var cause: String
    var createdBy: String
    var createdAt: Date
}

/// GET .../status: desired versus ready replicas per version, conditions and recent events.
/// Replica rows come from the `replica_status` table, written by the scheduler and workers.
struct DeploymentStatusView: Codable, Sendable {
    struct VersionStatus: Codable, Sendable {
        var model: String
        var version: String
        var weight: Int
        var shadow: Bool
        var desiredReplicas: Int
        var readyReplicas: Int
        var replicas: [ReplicaView]
    }

    struct ReplicaView: Codable, Sendable {
        var replica: String
        var worker: String
        var state: String
        var reason: String?
        var updatedAt: Date
    }

    struct Condition: Codable, Sendable {
        var type: String
        var status: Bool
        var reason: String
        var message: String
        /// For `ReplicaFailure`: the failing replica, its restarts, last exit and output.
        var replica: String?
        var restarts: Int?
        var exitStatus: ExitStatus?
        var logTail: [String]?
    }

    struct Event: Codable, Sendable {
        var time: Date
        var type: String
        var reason: String
        var message: String
    }

    var name: String
    var revision: Int
    var minReplicas: Int
    var maxReplicas: Int
    var versions: [VersionStatus]
    var conditions: [Condition]
    var events: [Event]
}
