import PlinthCore

/// Something that happened to a replica, fed to its lifecycle.
public enum ReplicaEvent: Sendable, Equatable {
    /// The replica is wanted: start it (from pending, or now rather than after back-off).
    case start
    /// The process was started.
    case spawned
    /// The process could not be started (launcher missing, cgroup failure, ...).
    case spawnFailed(reason: String, message: String)
    /// A readiness probe finished.
    case probeResult(ready: Bool)
    /// The process exited.
    case exited(status: ExitStatus, oomKilled: Bool, logTail: [String])
    /// Time passed (the supervisor ticks every few tens of milliseconds).
    case tick
    /// The replica is no longer wanted: drain and stop it.
    case stop
}

/// What the supervisor must do for a replica.
public enum ReplicaAction: Sendable, Equatable {
    case spawn
    case probe
    /// Send a signal to the replica (SIGTERM to drain, SIGKILL for hangs and overdue drains).
    case signal(Int32)
    /// The process is gone for good: release its cgroup and folder.
    case cleanup
}

/// A replica's lifecycle as a value: events in, actions out, no I/O.
///
/// pending → starting → ready → draining → stopped; an exit, a missed startup deadline or
/// repeated probe failures lead to failed (with a condition) and a restart after an
/// exponential back-off; consecutive failures beyond a threshold are reported as
/// CrashLoopBackOff.
public struct ReplicaLifecycle: Sendable, Equatable {
    public let policy: ReplicaLifecyclePolicy
    public private(set) var phase: ReplicaPhase = .pending
    public private(set) var condition: ReplicaCondition?
    /// Restarts so far (each start after the first).
    public private(set) var restarts = 0
    /// Failures since the replica was last stable.
    public private(set) var consecutiveFailures = 0
    /// When a failed replica will be started again.
    public private(set) var restartAt: Double?
    /// Seconds from the current process's start to its first ready probe (a cold start); nil
    /// until it is ready.
    public private(set) var startupSeconds: Double?

    private var started = false
    private var running = false
    private var phaseSince: Double = 0
    private var startedAt: Double = 0
    private var probeInFlightSince: Double?
    private var nextProbeAt: Double = 0
    private var failedProbes = 0
    /// Why we killed it, reported when the exit arrives.
    private var killReason: ReplicaCondition?
    private var drainDeadline: Double?
    private var killSent = false

    public init(policy: ReplicaLifecyclePolicy = ReplicaLifecyclePolicy()) {
        self.policy = policy
    }

    /// Whether the process is (believed to be) alive.
    public var isRunning: Bool { running }

    /// Feeds one event at monotonic time `now` (seconds) and returns the actions to take.
    public mutating func handle(_ event: ReplicaEvent, now: Double) -> [ReplicaAction] {
        switch event {
        case .start:
            guard phase == .pending || phase == .failed, !running else { return [] }
            return beginStart(now)
        case .spawned:
            running = true
            enter(.starting, now)
            nextProbeAt = now
            return tick(now)
        case .spawnFailed(let reason, let message):
            running = false
            return fail(ReplicaCondition(reason: reason, message: message), now)
        case .probeResult(let ready):
            return probeFinished(ready: ready, now)
        case .exited(let status, let oomKilled, let logTail):
            return exited(status: status, oomKilled: oomKilled, logTail: logTail, now)
        case .tick:
            return tick(now)
        case .stop:
            return stop(now)
        }
    }

    private mutating func enter(_ next: ReplicaPhase, _ now: Double) {
        phase = next
        phaseSince = now
    }

    private mutating func beginStart(_ now: Double) -> [ReplicaAction] {
        if started { restarts += 1 }
        started = true
        startedAt = now
        startupSeconds = nil
        restartAt = nil
        killReason = nil
        killSent = false
        failedProbes = 0
        probeInFlightSince = nil
        enter(.starting, now)
        return [.spawn]
    }

    private mutating func fail(_ reason: ReplicaCondition, _ now: Double) -> [ReplicaAction] {
        consecutiveFailures += 1
        var condition = reason
        if consecutiveFailures >= policy.crashLoopThreshold {
            condition = ReplicaCondition(
                reason: "CrashLoopBackOff",
                message: "\(consecutiveFailures) failures in a row; last: \(reason.reason): \(reason.message)",
                exitStatus: reason.exitStatus, logTail: reason.logTail)
        }
        self.condition = condition
        enter(.failed, now)
        restartAt = now + policy.backoff(afterFailures: consecutiveFailures)
        return [.cleanup]
    }

    private mutating func exited(status: ExitStatus, oomKilled: Bool, logTail: [String], _ now: Double)
        -> [ReplicaAction]
    {
        guard running else { return [] }
        running = false
        probeInFlightSince = nil
        if phase == .draining || phase == .stopped {
            enter(.stopped, now)
            return [.cleanup]
        }
        var reason: ReplicaCondition
        if oomKilled {
            reason = ReplicaCondition(reason: "OOMKilled", message: "killed for exceeding its memory limit")
        } else if let killReason {
            reason = killReason
        } else if status.code == SandboxLauncher.setupFailedStatus {
            reason = ReplicaCondition(reason: "SandboxSetupFailed", message: "the sandbox could not be set up")
        } else {
            reason = ReplicaCondition(reason: "Exited", message: "the process ended unexpectedly (\(status))")
        }
        reason.exitStatus = status
        reason.logTail = logTail
        return fail(reason, now)
    }

    private mutating func probeFinished(ready: Bool, _ now: Double) -> [ReplicaAction] {
        guard probeInFlightSince != nil, running, phase == .starting || phase == .ready else { return [] }
        probeInFlightSince = nil
        nextProbeAt = now + policy.probeInterval
        if ready {
            failedProbes = 0
            if phase == .starting {
                enter(.ready, now)
                condition = nil
                startupSeconds = max(0, now - startedAt)
            }
            return tick(now)
        }
        return probeFailed(now)
    }

    private mutating func probeFailed(_ now: Double) -> [ReplicaAction] {
        guard phase == .ready else { return [] }  // starting: keep trying until the startup deadline
        failedProbes += 1
        guard failedProbes >= policy.failureThreshold else { return [] }
        return kill(
            ReplicaCondition(reason: "Unresponsive", message: "\(failedProbes) readiness probes failed in a row"))
    }

    private mutating func kill(_ reason: ReplicaCondition) -> [ReplicaAction] {
        guard !killSent else { return [] }
        killSent = true
        killReason = reason
        return [.signal(9)]
    }

    private mutating func tick(_ now: Double) -> [ReplicaAction] {
        switch phase {
        case .pending, .stopped:
            return []
        case .failed:
            if let restartAt, now >= restartAt, !running { return beginStart(now) }
            return []
        case .draining:
            if let drainDeadline, now >= drainDeadline, running, !killSent {
                killSent = true
                return [.signal(9)]
            }
            return []
        case .starting, .ready:
            guard running, !killSent else { return [] }
            if phase == .ready, now - phaseSince >= policy.stableAfter, consecutiveFailures > 0 {
                consecutiveFailures = 0
            }
            if phase == .starting, now - phaseSince >= policy.startupTimeout {
                return kill(
                    ReplicaCondition(
                        reason: "StartupTimeout", message: "not ready within \(Int(policy.startupTimeout)) s"))
            }
            if let since = probeInFlightSince {
                guard now - since >= policy.probeTimeout else { return [] }
                // The probe is stuck: the replica accepted but does not answer. Count it.
                probeInFlightSince = nil
                nextProbeAt = now + policy.probeInterval
                return probeFailed(now)
            }
            if now >= nextProbeAt {
                probeInFlightSince = now
                return [.probe]
            }
            return []
        }
    }

    private mutating func stop(_ now: Double) -> [ReplicaAction] {
        switch phase {
        case .pending, .failed, .stopped:
            let wasStopped = phase == .stopped
            enter(.stopped, now)
            restartAt = nil
            return wasStopped || running ? [] : [.cleanup]
        case .starting, .ready:
            guard running else {
                enter(.stopped, now)
                return [.cleanup]
            }
            enter(.draining, now)
            drainDeadline = now + policy.drainGrace
            return [.signal(15)]
        case .draining:
            return []
        }
    }
}
