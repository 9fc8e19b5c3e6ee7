/// The heartbeat answer: every replica this node should run. Replicas the agent runs that
/// are not listed are drained and stopped; a listed replica whose definition changed is
/// replaced (stopped, then started with the new one).
public struct DesiredState: Codable, Sendable, Equatable {
    /// Increases whenever the set or a definition changes.
    public var generation: Int
    public var replicas: [DesiredReplica]
    /// Seconds until the next heartbeat is due.
    public var heartbeatIntervalSeconds: Double?

    public init(generation: Int, replicas: [DesiredReplica], heartbeatIntervalSeconds: Double? = nil) {
        self.generation = generation
        self.replicas = replicas
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
    }
}

/// One replica to run: which model version, how, and within which limits.
public struct DesiredReplica: Codable, Sendable, Equatable {
    /// Unique on the node; [A-Za-z0-9_-], at most 64 characters.
    public var id: String
    public var tenant: String
    public var deployment: String
    public var version: String
    /// "onnx" (run by `plinth runtime`) or "external" (run `command`).
    public var format: String
    public var artifact: ArtifactReference?
    /// argv for external runtimes. It serves OIP v2 on the Unix socket in $PLINTH_SOCKET.
    public var command: [String]?
    public var limits: InstanceLimits
    /// GPU indices the scheduler assigned (empty for CPU classes).
    public var gpuIndices: [Int]
    /// Extra environment for the replica; names starting with PLINTH_ are reserved and dropped.
    public var environment: [String: String]
    /// The deployment's settings for the built-in runtime; nil (older control planes): its defaults.
    public var runtime: RuntimeSettings?

    public init(
        id: String, tenant: String, deployment: String, version: String, format: String,
        artifact: ArtifactReference?, command: [String]? = nil, limits: InstanceLimits, gpuIndices: [Int] = [],
        environment: [String: String] = [:], runtime: RuntimeSettings? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.deployment = deployment
        self.version = version
        self.format = format
        self.artifact = artifact
        self.command = command
        self.limits = limits
        self.gpuIndices = gpuIndices
        self.environment = environment
        self.runtime = runtime
    }
}

/// A deployment's settings for `plinth runtime`, the same on every node (see `ReplicaPlanner`).
public struct RuntimeSettings: Codable, Sendable, Equatable {
    /// Largest dynamic batch (`--max-batch`).
    public var maxBatchSize: Int
    /// Longest wait to fill a batch (`--max-delay-us`).
    public var maxQueueDelayMicros: Int
    /// Largest request body (`--max-body-bytes`).
    public var maxBodyBytes: Int

    public init(maxBatchSize: Int, maxQueueDelayMicros: Int, maxBodyBytes: Int) {
        self.maxBatchSize = maxBatchSize
        self.maxQueueDelayMicros = maxQueueDelayMicros
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Where to fetch a model artifact and how to check it.
public struct ArtifactReference: Codable, Sendable, Equatable {
    /// Lower-case hex SHA-256 of the file: the cache key and the integrity check.
    public var sha256: String
    public var sizeBytes: UInt64
    /// Path on the control plane, fetched with the node token: "/v1/workers/artifacts/{sha256}".
    public var downloadPath: String
    /// Name the file gets in the replica's folder ("model.onnx").
    public var fileName: String

    public init(sha256: String, sizeBytes: UInt64, downloadPath: String, fileName: String) {
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
        self.downloadPath = downloadPath
        self.fileName = fileName
    }
}

/// The instance class's limits, as applied to one replica.
public struct InstanceLimits: Codable, Sendable, Equatable {
    public var instanceClass: String
    public var cpuMillicores: Int
    public var memoryBytes: UInt64
    public var gpus: Int
    public var maxProcesses: Int
    public var maxOpenFiles: Int

    public init(
        instanceClass: String, cpuMillicores: Int, memoryBytes: UInt64, gpus: Int = 0, maxProcesses: Int = 256,
        maxOpenFiles: Int = 1024
    ) {
        self.instanceClass = instanceClass
        self.cpuMillicores = cpuMillicores
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.maxProcesses = maxProcesses
        self.maxOpenFiles = maxOpenFiles
    }
}
