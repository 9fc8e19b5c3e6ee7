/// How the control plane treats worker nodes.
public struct WorkerSettings: Sendable {
    /// What workers are told in register and heartbeat answers.
    public var heartbeatIntervalSeconds: Double
    /// A worker not heard from for this long is `missing`: its replicas are placed elsewhere and
    /// the gateway stops routing to them.
    public var missingAfterSeconds: Double

    public init(heartbeatIntervalSeconds: Double = 5, missingAfterSeconds: Double = 30) {
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.missingAfterSeconds = missingAfterSeconds
    }
}
