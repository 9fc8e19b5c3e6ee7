/// Which cgroup interface the agent can drive.
public enum CgroupMode: String, Codable, Sendable, Equatable {
    /// Unified hierarchy: memory.max, cpu.max, pids.max, memory.events.
    case v2
    /// Legacy per-controller hierarchies: memory.limit_in_bytes, cpu.cfs_quota_us, pids.max.
    case v1
    /// No writable cgroups: rlimits are the only resource limits.
    case none
}

/// Resource limits applied to one replica's cgroup.
public struct CgroupLimits: Codable, Sendable, Equatable {
    public var memoryBytes: UInt64?
    /// CPU quota in thousandths of a core (1500 = 1.5 cores).
    public var cpuMillicores: Int?
    public var pids: Int?

    public init(memoryBytes: UInt64? = nil, cpuMillicores: Int? = nil, pids: Int? = nil) {
        self.memoryBytes = memoryBytes
        self.cpuMillicores = cpuMillicores
        self.pids = pids
    }
}
