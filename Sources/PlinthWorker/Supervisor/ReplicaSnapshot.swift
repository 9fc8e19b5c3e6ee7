import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// A replica's state as the supervisor last saw it.
public struct ReplicaSnapshot: Sendable, Equatable {
    public var id: String
    public var phase: ReplicaPhase
    public var restarts: Int
    public var condition: ReplicaCondition?
    /// "unix:<socket>" while the process runs.
    public var endpoint: String?
    /// The launcher's pid (host view) while running.
    public var pid: pid_t?
    public var memoryBytes: UInt64?
    public var cpuMicros: UInt64?
    public var logTail: [String]
    /// Start-to-ready time of the current process, once it is ready.
    public var startupMillis: Int?

    /// The heartbeat form.
    public var report: ReplicaReport {
        ReplicaReport(
            id: id, phase: phase, endpoint: endpoint, restarts: restarts, condition: condition,
            memoryBytes: memoryBytes,
            cpuMicros: cpuMicros, startupMillis: startupMillis,
            logTail: ReplicaReport.boundedLogTail(logTail))
    }
}
