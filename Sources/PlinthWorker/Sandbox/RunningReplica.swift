import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// A started replica process as the supervisor tracks it.
public struct RunningReplica: Sendable {
    /// The launcher's pid (it mirrors the replica's exit); also its session and process group.
    public let pid: pid_t
    /// Read end of the replica's stdout+stderr pipe (non-blocking).
    public let outputFD: Int32
    public let cgroup: ReplicaCgroup?
    /// Unix socket the replica serves OIP on.
    public let socketPath: String
    /// The replica's folder (artifact/, run/, spec.json).
    public let directory: String
    /// The cgroup's OOM-kill counter when the replica started.
    public let oomKillsAtStart: Int

    /// Whether the kernel's OOM killer struck this replica's cgroup since it started.
    public func wasOOMKilled() -> Bool {
        guard let cgroup else { return false }
        return cgroup.oomKillCount() > oomKillsAtStart
    }
}
