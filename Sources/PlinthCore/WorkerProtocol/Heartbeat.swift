/// `POST /v1/workers/{workerID}/heartbeat` body: what runs on the node now. The answer is
/// the node's `DesiredState`.
public struct Heartbeat: Codable, Sendable, Equatable {
    public var workerID: String
    /// Increases by one per heartbeat from this agent process (restarts from 1 after a restart).
    public var sequence: Int
    /// The `DesiredState.generation` the agent has applied (0 before the first).
    public var appliedGeneration: Int
    public var replicas: [ReplicaReport]
    public var usage: NodeUsage
    /// The node's data-plane forwarder counters; nil when it runs none.
    public var dataPlane: DataPlaneCounters?

    public init(
        workerID: String, sequence: Int, appliedGeneration: Int, replicas: [ReplicaReport], usage: NodeUsage,
        dataPlane: DataPlaneCounters? = nil
    ) {
        self.workerID = workerID
        self.sequence = sequence
        self.appliedGeneration = appliedGeneration
        self.replicas = replicas
        self.usage = usage
        self.dataPlane = dataPlane
    }
}

/// One replica's state in a heartbeat.
public struct ReplicaReport: Codable, Sendable, Equatable {
    public var id: String
    public var phase: ReplicaPhase
    /// Where the gateway reaches it: "unix:/path/replica.sock" on the node itself, or the node's
    /// data-plane forwarder "http://host:port" (which relays to the replica's socket).
    public var endpoint: String?
    public var restarts: Int
    public var condition: ReplicaCondition?
    public var memoryBytes: UInt64?
    public var cpuMicros: UInt64?
    /// Milliseconds from the current process's start to its first ready probe (its cold start);
    /// nil until ready. Absent from older agents.
    public var startupMillis: Int?

    /// The replica's latest stdout/stderr lines, oldest first: at most `maxLogLines` of at most
    /// `maxLogLineBytes` each (the control plane trims longer reports).
    public var logTail: [String]?

    /// Bounds of `logTail`, so a chatty replica cannot bloat heartbeats.
    public static let maxLogLines = 50
    public static let maxLogLineBytes = 512

    public init(
        id: String, phase: ReplicaPhase, endpoint: String?, restarts: Int, condition: ReplicaCondition?,
        memoryBytes: UInt64? = nil, cpuMicros: UInt64? = nil, startupMillis: Int? = nil,
        logTail: [String]? = nil
    ) {
        self.id = id
        self.phase = phase
        self.endpoint = endpoint
        self.restarts = restarts
        self.condition = condition
        self.memoryBytes = memoryBytes
        self.cpuMicros = cpuMicros
        self.startupMillis = startupMillis
        self.logTail = logTail
    }

    /// `lines` cut to the last `maxLogLines`, each to at most `maxLogLineBytes` (on a UTF-8
    /// boundary).
    public static func boundedLogTail(_ lines: [String]) -> [String] {
        lines.suffix(maxLogLines).map { line in
            guard line.utf8.count > maxLogLineBytes else { return line }
            var cut = String.UnicodeScalarView()
            var used = 0
            for scalar in line.unicodeScalars {
                used += String(scalar).utf8.count
                if used > maxLogLineBytes { break }
                cut.append(scalar)
            }
            return String(cut)
        }
    }
}

/// Node-wide resource use.
public struct NodeUsage: Codable, Sendable, Equatable {
    public var memoryBytesUsed: UInt64
    public var loadAverage1m: Double

    public init(memoryBytesUsed: UInt64, loadAverage1m: Double) {
        self.memoryBytesUsed = memoryBytesUsed
        self.loadAverage1m = loadAverage1m
    }
}

/// Requests a worker's data-plane forwarder handled since the agent started.
public struct DataPlaneCounters: Codable, Sendable, Equatable {
    /// Relayed to a replica (whatever the replica answered).
    public var forwarded: Int
    /// Refused with 401: no or a wrong data-plane secret.
    public var unauthorized: Int
    /// Refused with 404: no such replica running on this node.
    public var unknownReplica: Int
    /// The replica's socket refused, reset or timed out (502/504).
    public var upstreamFailures: Int

    public init(forwarded: Int = 0, unauthorized: Int = 0, unknownReplica: Int = 0, upstreamFailures: Int = 0) {
        self.forwarded = forwarded
        self.unauthorized = unauthorized
        self.unknownReplica = unknownReplica
        self.upstreamFailures = upstreamFailures
    }
}
