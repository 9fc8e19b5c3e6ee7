import Foundation
import PlinthCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs replicas like a kubelet runs pods: reconciles the wanted set against what runs
/// (start missing, drain extra, replace changed), drives each replica's `ReplicaLifecycle`,
/// reaps exits, probes readiness, captures output tails and applies restart back-off.
///
/// All process operations happen on one long-lived supervisor thread, which serialises them
/// per replica and keeps the launcher's parent-death signal tied to a thread that does not
/// exit while replicas run. Callers only post desired state and read snapshots.
public final class ReplicaSupervisor: Sendable {
    public let sandbox: ReplicaSandbox
    public let policy: ReplicaLifecyclePolicy
    let logger: Logger
    let tickInterval: Double
    let shared = Mutex(SharedState())

    struct SharedState {
        var desired: [String: ReplicaLaunch]?
        var probeResults: [(id: String, incarnation: Int, ready: Bool)] = []
        var snapshots: [String: ReplicaSnapshot] = [:]
        var started = false
        var stopping = false
        var finished = false
    }

    public init(
        sandbox: ReplicaSandbox, policy: ReplicaLifecyclePolicy = ReplicaLifecyclePolicy(),
        logger: Logger = Logger(component: "worker"), tickInterval: Double = 0.05
    ) {
        self.sandbox = sandbox
        self.policy = policy
        self.logger = logger
        self.tickInterval = tickInterval
    }

    /// Starts the supervisor thread (once).
    public func start() {
        let first = shared.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        let thread = Thread { [self] in
            let loop = SupervisorLoop(supervisor: self)
            loop.run()
        }
        thread.name = "plinth-supervisor"
        thread.start()
    }

    /// Sets the replicas that should run. Takes effect on the next tick.
    public func reconcile(_ desired: [ReplicaLaunch]) {
        var byID: [String: ReplicaLaunch] = [:]
        for launch in desired { byID[launch.id] = launch }
        shared.withLock { state in
            guard !state.stopping else { return }  // shutting down: everything stays stopped
            state.desired = byID
        }
    }

    /// The current state of every replica the supervisor knows, sorted by id.
    public func snapshot() -> [ReplicaSnapshot] {
        shared.withLock { Array($0.snapshots.values) }.sorted { $0.id < $1.id }
    }

    /// One replica's state.
    public func snapshot(of id: String) -> ReplicaSnapshot? {
        shared.withLock { $0.snapshots[id] }
    }

    /// Drains every replica (SIGTERM, SIGKILL after the policy's grace) and stops the thread.
    /// Blocks until done or `timeoutSeconds` passed; returns whether everything stopped.
    @discardableResult
    public func shutdown(timeoutSeconds: Double = 60) -> Bool {
        let running = shared.withLock { state -> Bool in
            state.desired = [:]
            state.stopping = true
            return state.started && !state.finished
        }
        guard running else { return true }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if shared.withLock({ $0.finished }) { return true }
            usleep(10_000)
        }
        return false
    }

    func postProbeResult(id: String, incarnation: Int, ready: Bool) {
        shared.withLock { $0.probeResults.append((id, incarnation, ready)) }
    }
}
