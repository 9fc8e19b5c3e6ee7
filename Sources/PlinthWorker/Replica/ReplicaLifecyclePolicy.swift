/// Timings and thresholds of a replica's lifecycle. Seconds throughout.
public struct ReplicaLifecyclePolicy: Sendable, Equatable {
    /// How long a starting replica may take to become ready (model load) before it is killed.
    public var startupTimeout: Double
    /// Time between readiness probes.
    public var probeInterval: Double
    /// A probe not answered within this is a failure (the replica hangs).
    public var probeTimeout: Double
    /// Consecutive failed probes after which a ready replica is killed.
    public var failureThreshold: Int
    /// First restart delay; doubles per consecutive failure up to `backoffCap`.
    public var backoffBase: Double
    public var backoffCap: Double
    /// A replica ready this long has its failure count (and back-off) reset.
    public var stableAfter: Double
    /// Consecutive failures from which the replica is reported as crash-looping.
    public var crashLoopThreshold: Int
    /// SIGTERM → SIGKILL grace when draining.
    public var drainGrace: Double

    public init(
        startupTimeout: Double = 120, probeInterval: Double = 2, probeTimeout: Double = 2, failureThreshold: Int = 3,
        backoffBase: Double = 1, backoffCap: Double = 60, stableAfter: Double = 60, crashLoopThreshold: Int = 3,
        drainGrace: Double = 30
    ) {
        self.startupTimeout = startupTimeout
        self.probeInterval = probeInterval
        self.probeTimeout = probeTimeout
        self.failureThreshold = failureThreshold
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        self.stableAfter = stableAfter
        self.crashLoopThreshold = crashLoopThreshold
        self.drainGrace = drainGrace
    }

    /// Delay before restart number `failures` (1-based): base·2^(failures-1), capped.
    public func backoff(afterFailures failures: Int) -> Double {
        guard failures > 0 else { return 0 }
        let exponent = min(failures - 1, 30)
        return min(backoffCap, backoffBase * Double(1 << exponent))
    }
}
