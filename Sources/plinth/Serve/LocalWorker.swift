import Foundation
import PlinthControl
import PlinthCore
import PlinthHTTP
import PlinthWorker
import Synchronization

/// The in-process worker of `plinth serve`: node "local". It speaks the worker protocol by
/// function calls instead of HTTP — registers, heartbeats its replicas' states and receives its
/// `DesiredState` from the control plane's scheduler — then plans each replica with
/// `ReplicaPlanner` (the artifact is the control plane's blob file: no download) and reconciles
/// the in-process supervisor. Each tick also refreshes the gateway's routing table.
final class LocalWorker: Sendable {
    static let nodeName = "local"

    let control: ControlPlane
    let supervisor: ReplicaSupervisor
    let directory: ControlPlaneDirectory
    let plinthBinary: String
    let capacity: NodeCapacity
    let interval: Duration
    /// Passes `--access-log` to built-in runtimes (with `plinth serve --access-log`).
    let runtimeAccessLog: Bool
    private let logger = Logger(component: "worker")
    private let state = Mutex(State())

    private struct State {
        var workerID: String?
        var sequence = 0
        var appliedGeneration = 0
        var unplannable: [String: ReplicaCondition] = [:]
        var stopping = false
    }

    init(
        control: ControlPlane, supervisor: ReplicaSupervisor, directory: ControlPlaneDirectory, plinthBinary: String,
        interval: Duration = .milliseconds(200), runtimeAccessLog: Bool = false
    ) {
        self.control = control
        self.supervisor = supervisor
        self.directory = directory
        self.plinthBinary = plinthBinary
        self.capacity = NodeResources.capacity(gpus: GPUInventory.detect())
        self.interval = interval
        self.runtimeAccessLog = runtimeAccessLog
    }

    /// Starts the worker's thread.
    func start() {
        let thread = Thread { [self] in
            let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
            while !state.withLock({ $0.stopping }) {
                tick()
                Thread.sleep(forTimeInterval: seconds)
            }
        }
        thread.name = "plinth-local-worker"
        thread.start()
    }

    func stop() {
        state.withLock { $0.stopping = true }
    }

    /// One exchange with the control plane, then one reconciliation of the supervisor.
    func tick() {
        do {
            let workerID = try state.withLock({ $0.workerID }) ?? register()
            let desired: DesiredState
            do {
                desired = try control.acceptHeartbeat(heartbeat(workerID: workerID), tokenID: nil)
            } catch {
                // Unknown worker (a concurrent restart of the registry): register again next tick.
                state.withLock { $0.workerID = nil }
                throw error
            }
            apply(desired)
        } catch {
            logger.warning("local worker exchange failed", ["error": .string("\(error)")])
        }
        directory.refresh()
    }

    private func register() throws -> String {
        let response = try control.registerWorker(
            RegisterRequest(
                nodeName: Self.nodeName, agentVersion: PlinthVersion.current, capacity: capacity,
                isolation: supervisor.sandbox.isolation),
            tokenID: nil)
        state.withLock {
            $0.workerID = response.workerID
            $0.sequence = 0
        }
        return response.workerID
    }

    private func heartbeat(workerID: String) -> Heartbeat {
        let snapshots = supervisor.snapshot()
        let known = Set(snapshots.map(\.id))
        return state.withLock { state in
            state.sequence += 1
            var reports = snapshots.map(\.report)
            for (id, condition) in state.unplannable.sorted(by: { $0.key < $1.key }) where !known.contains(id) {
                reports.append(ReplicaReport(id: id, phase: .pending, endpoint: nil, restarts: 0, condition: condition))
            }
            return Heartbeat(
                workerID: workerID, sequence: state.sequence, appliedGeneration: state.appliedGeneration,
                replicas: reports, usage: NodeResources.usage())
        }
    }

    private func apply(_ desired: DesiredState) {
        // The same planner (and so the same runtime argv) as a remote `plinth worker`.
        let planner = ReplicaPlanner(
            runtimeCommand: [plinthBinary, "runtime"], replicasDirectory: supervisor.sandbox.replicasDirectory,
            accessLog: runtimeAccessLog)
        var launches: [ReplicaLaunch] = []
        var unplannable: [String: ReplicaCondition] = [:]
        for replica in desired.replicas {
            do {
                launches.append(
                    try planner.launch(
                        for: replica, artifactPath: replica.artifact.map { control.artifactPath(sha256: $0.sha256) }))
            } catch {
                unplannable[replica.id] = ReplicaCondition(reason: "InvalidReplica", message: "\(error)")
            }
        }
        supervisor.reconcile(launches)
        state.withLock {
            $0.unplannable = unplannable
            $0.appliedGeneration = desired.generation
        }
    }
}
