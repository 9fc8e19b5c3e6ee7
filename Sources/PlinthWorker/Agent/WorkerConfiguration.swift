import PlinthCore

/// How a worker agent reaches its control plane and where it keeps its files.
public struct WorkerConfiguration: Sendable {
    /// Base URL of the control plane: "http://host:port" or "unix:/path".
    public var controlURL: String
    /// The node token, sent as `Authorization: Bearer <token>`. Never logged.
    public var token: String
    /// Agent state: `artifacts/` (cache) and `replicas/` (one folder per replica).
    public var dataDirectory: String
    public var nodeName: String
    /// The plinth binary used as sandbox launcher and built-in runtime; nil = this executable.
    public var plinthBinary: String?
    public var policy: ReplicaLifecyclePolicy
    /// Used until the control plane says otherwise.
    public var heartbeatIntervalSeconds: Double
    /// Wait before downloading an artifact again after a failed or corrupt download.
    public var artifactRetrySeconds: Double

    public init(
        controlURL: String, token: String, dataDirectory: String, nodeName: String, plinthBinary: String? = nil,
        policy: ReplicaLifecyclePolicy = ReplicaLifecyclePolicy(), heartbeatIntervalSeconds: Double = 5,
        artifactRetrySeconds: Double = 10
    ) {
        self.controlURL = controlURL
        self.token = token
        self.dataDirectory = dataDirectory
        self.nodeName = nodeName
        self.plinthBinary = plinthBinary
        self.policy = policy
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.artifactRetrySeconds = artifactRetrySeconds
    }
}

extension WorkerConfiguration: CustomStringConvertible {
    /// For the start-up log: the token is masked.
    public var description: String {
        "control=\(controlURL) node=\(nodeName) data=\(dataDirectory) token=\(token.isEmpty ? "(none)" : "****")"
            + " heartbeat=\(heartbeatIntervalSeconds)s binary=\(plinthBinary ?? "(self)")"
    }
}
