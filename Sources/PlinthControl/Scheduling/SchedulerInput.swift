import PlinthCore

/// A worker as the scheduler sees it: what it offers and whether it is heard from.
public struct SchedulableWorker: Sendable, Equatable {
    public var id: String
    public var name: String
    public var cpuMillicores: Int
    public var memoryBytes: UInt64
    public var gpus: [GPUDevice]
    /// False once the worker missed heartbeats for the grace period: nothing is placed there and
    /// its replicas are placed elsewhere.
    public var ready: Bool

    public init(
        id: String, name: String, cpuMillicores: Int, memoryBytes: UInt64, gpus: [GPUDevice] = [], ready: Bool = true
    ) {
        self.id = id
        self.name = name
        self.cpuMillicores = cpuMillicores
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.ready = ready
    }
}

/// One replica the deployments want, with what it needs from a worker.
public struct ReplicaDemand: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var deployment: String
    public var model: String
    public var version: String
    public var cpuMillicores: Int
    public var memoryBytes: UInt64
    public var gpus: Int
    /// Matched case-insensitively against the GPU's name ("H100"); nil: any GPU.
    public var gpuKind: String?

    public init(
        id: String, tenant: String, deployment: String, model: String = "", version: String = "",
        cpuMillicores: Int, memoryBytes: UInt64, gpus: Int = 0, gpuKind: String? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.deployment = deployment
        self.model = model
        self.version = version
        self.cpuMillicores = cpuMillicores
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.gpuKind = gpuKind
    }

    var deploymentKey: String { tenant + "/" + deployment }
}

/// Where a replica runs: the worker and the GPUs it holds alone.
public struct Placement: Sendable, Equatable, Hashable {
    public var workerID: String
    public var gpuIndices: [Int]

    public init(workerID: String, gpuIndices: [Int] = []) {
        self.workerID = workerID
        self.gpuIndices = gpuIndices
    }
}

/// A tenant's replica quotas (nil: unlimited).
public struct ReplicaQuota: Sendable, Equatable {
    public var maxReplicas: Int?
    public var maxGPUReplicas: Int?

    public init(maxReplicas: Int? = nil, maxGPUReplicas: Int? = nil) {
        self.maxReplicas = maxReplicas
        self.maxGPUReplicas = maxGPUReplicas
    }
}

/// The scheduler's answer: a placement for every replica that fits, a reason for every other.
public struct SchedulerResult: Sendable, Equatable {
    public var placements: [String: Placement] = [:]
    /// Replica id → "Unschedulable: no worker has 4 vCPU free" (or "QuotaExceeded: ...").
    public var unschedulable: [String: String] = [:]

    public init(placements: [String: Placement] = [:], unschedulable: [String: String] = [:]) {
        self.placements = placements
        self.unschedulable = unschedulable
    }
}
