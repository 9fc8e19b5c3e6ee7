/// Where a replica is in its life on a worker.
public enum ReplicaPhase: String, Codable, Sendable, Equatable, CaseIterable {
    /// Wanted, not started yet.
    case pending
    /// Process running, not yet answering `GET /v2/health/ready` with 200.
    case starting
    /// Serving: the gateway may route to it.
    case ready
    /// Asked to stop (SIGTERM sent); finishing in-flight work until the grace period ends.
    case draining
    /// Exited or killed; waiting for its restart back-off (see the condition for why).
    case failed
    /// Stopped on purpose; about to be forgotten.
    case stopped
}

/// Why a replica is not (or no longer) ready, verbatim for the API and the console.
public struct ReplicaCondition: Codable, Sendable, Equatable {
    /// Machine-readable reason: `Exited`, `OOMKilled`, `CrashLoopBackOff`, `StartupTimeout`,
    /// `Unresponsive`, `SpawnFailed`, `SandboxSetupFailed`, `ArtifactUnavailable`.
    public var reason: String
    /// Human-readable detail.
    public var message: String
    public var exitStatus: ExitStatus?
    /// The last lines the replica wrote to stdout/stderr (bounded).
    public var logTail: [String]

    public init(reason: String, message: String, exitStatus: ExitStatus? = nil, logTail: [String] = []) {
        self.reason = reason
        self.message = message
        self.exitStatus = exitStatus
        self.logTail = logTail
    }
}
