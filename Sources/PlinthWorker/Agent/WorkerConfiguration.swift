import PlinthCore
import PlinthHTTP

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
    /// Where the data-plane forwarder listens (`--data-listen`); nil: none, replicas are reachable
    /// only through their Unix sockets on this node.
    public var dataListen: ListenAddress?
    /// "host:port" the gateway dials for the forwarder (`--advertise`); nil: the bound address.
    public var dataAdvertise: String?
    /// Passes `--access-log` to built-in runtimes.
    public var runtimeAccessLog: Bool
    /// The node's allocatable share (`--cpus`, `--memory`); nil: the whole machine.
    public var cpuMillicores: Int?
    public var memoryBytes: UInt64?

    public init(
        controlURL: String, token: String, dataDirectory: String, nodeName: String, plinthBinary: String? = nil,
        policy: ReplicaLifecyclePolicy = ReplicaLifecyclePolicy(), heartbeatIntervalSeconds: Double = 5,
        artifactRetrySeconds: Double = 10, dataListen: ListenAddress? = nil, dataAdvertise: String? = nil,
        runtimeAccessLog: Bool = false, cpuMillicores: Int? = nil, memoryBytes: UInt64? = nil
    ) {
        self.controlURL = controlURL
        self.token = token
        self.dataDirectory = dataDirectory
        self.nodeName = nodeName
        self.plinthBinary = plinthBinary
        self.policy = policy
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.artifactRetrySeconds = artifactRetrySeconds
        self.dataListen = dataListen
        self.dataAdvertise = dataAdvertise
        self.runtimeAccessLog = runtimeAccessLog
        self.cpuMillicores = cpuMillicores
        self.memoryBytes = memoryBytes
    }
}

extension WorkerConfiguration: CustomStringConvertible {
    /// For the start-up log: the token is masked.
    public var description: String {
        "control=\(controlURL) node=\(nodeName) data=\(dataDirectory) token=\(token.isEmpty ? "(none)" : "****")"
            + " heartbeat=\(heartbeatIntervalSeconds)s binary=\(plinthBinary ?? "(self)")"
            + " data-listen=\(dataListen?.description ?? "(none)")"
            + (dataAdvertise.map { " advertise=\($0)" } ?? "")
    }
}
