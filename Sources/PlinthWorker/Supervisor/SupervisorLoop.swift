import Dispatch
import Foundation
import PlinthCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The supervisor thread's state and loop. Lives on that thread only.
final class SupervisorLoop {
    final class Entry {
        var launch: ReplicaLaunch
        var lifecycle: ReplicaLifecycle
        var running: RunningReplica?
        var log = LogTail()
        var incarnation = 0
        var stopRequested = false
        /// A changed definition waiting for the old process to stop.
        var replacement: ReplicaLaunch?
        var lastUsage: (memory: UInt64?, cpu: UInt64?) = (nil, nil)

        init(launch: ReplicaLaunch, policy: ReplicaLifecyclePolicy) {
            self.launch = launch
            self.lifecycle = ReplicaLifecycle(policy: policy)
        }
    }

    let supervisor: ReplicaSupervisor
    var entries: [String: Entry] = [:]
    let clockStart = ContinuousClock.now
    var lastUsageRead: Double = -10

    init(supervisor: ReplicaSupervisor) {
        self.supervisor = supervisor
    }

    var now: Double {
        let elapsed = ContinuousClock.now - clockStart
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func run() {
        while true {
            let (desired, probes, stopping) = supervisor.shared.withLock { state in
                defer {
                    state.desired = nil
                    state.probeResults = []
                }
                return (state.desired, state.probeResults, state.stopping)
            }
            if let desired { reconcile(desired) }
            for probe in probes {
                guard let entry = entries[probe.id], entry.incarnation == probe.incarnation else { continue }
                feed(entry, .probeResult(ready: probe.ready))
            }
            for entry in entries.values { step(entry) }
            removeStopped()
            publish()
            if stopping && entries.isEmpty {
                supervisor.shared.withLock { $0.finished = true }
                return
            }
            usleep(useconds_t(supervisor.tickInterval * 1_000_000))
        }
    }

    func reconcile(_ desired: [String: ReplicaLaunch]) {
        for (id, launch) in desired.sorted(by: { $0.key < $1.key }) {
            if let entry = entries[id] {
                if entry.launch != launch && entry.replacement != launch {
                    supervisor.logger.info("replacing replica", ["replica": .string(id)])
                    entry.replacement = launch
                    entry.stopRequested = true
                    feed(entry, .stop)
                } else if entry.stopRequested && entry.replacement == nil {
                    // Wanted again while draining: bring it back once it has stopped.
                    entry.replacement = launch
                }
                continue
            }
            let entry = Entry(launch: launch, policy: supervisor.policy)
            entries[id] = entry
            feed(entry, .start)
        }
        for (id, entry) in entries where desired[id] == nil {
            entry.replacement = nil
            if !entry.stopRequested {
                entry.stopRequested = true
                feed(entry, .stop)
            }
        }
    }

    func step(_ entry: Entry) {
        if let running = entry.running {
            drainOutput(entry, running)
            if let status = ChildProcess.poll(running.pid) {
                drainOutput(entry, running)
                let oom = running.wasOOMKilled()
                // Kill whatever it left behind before the cgroup goes away.
                running.cgroup?.killAll()
                feed(entry, .exited(status: status, oomKilled: oom, logTail: entry.log.lines))
                if entry.running != nil { release(entry) }
            }
        }
        feed(entry, .tick)
    }

    func removeStopped() {
        for (id, entry) in entries where entry.lifecycle.phase == .stopped && entry.running == nil {
            if let replacement = entry.replacement {
                let fresh = Entry(launch: replacement, policy: supervisor.policy)
                entries[id] = fresh
                feed(fresh, .start)
            } else {
                entries[id] = nil
                supervisor.sandbox.removeFolder(of: id)
                supervisor.logger.info("replica removed", ["replica": .string(id)])
            }
        }
    }

    func feed(_ entry: Entry, _ event: ReplicaEvent) {
        let before = entry.lifecycle.phase
        let actions = entry.lifecycle.handle(event, now: now)
        let after = entry.lifecycle.phase
        if before != after {
            var fields: [String: LogValue] = [
                "replica": .string(entry.launch.id), "from": .string(before.rawValue), "to": .string(after.rawValue),
            ]
            if after == .failed, let condition = entry.lifecycle.condition {
                fields["reason"] = .string(condition.reason)
                fields["detail"] = .string(condition.message)
            }
            supervisor.logger.log(after == .failed ? .warning : .info, "replica phase", fields)
        }
        for action in actions { perform(action, entry) }
    }

    func perform(_ action: ReplicaAction, _ entry: Entry) {
        switch action {
        case .spawn:
            // The tail spans restarts (the logs API shows why the last one died), marked.
            if entry.incarnation > 0 { entry.log.append(Array("--- plinth: replica restarted ---\n".utf8)) }
            do {
                entry.running = try supervisor.sandbox.launch(entry.launch)
                entry.incarnation += 1
                feed(entry, .spawned)
            } catch {
                feed(entry, .spawnFailed(reason: "SpawnFailed", message: "\(error)"))
            }
        case .probe:
            guard let running = entry.running else { return }
            let id = entry.launch.id
            let incarnation = entry.incarnation
            let timeout = supervisor.policy.probeTimeout
            let supervisor = self.supervisor
            DispatchQueue.global().async {
                let ready = ReadinessProbe.isReady(socketPath: running.socketPath, timeoutSeconds: timeout)
                supervisor.postProbeResult(id: id, incarnation: incarnation, ready: ready)
            }
        case .signal(let signal):
            guard let running = entry.running else { return }
            if signal == SIGKILL {
                kill(-running.pid, SIGKILL)
                kill(running.pid, SIGKILL)
                running.cgroup?.killAll()
            } else {
                kill(running.pid, signal)
            }
        case .cleanup:
            release(entry)
        }
    }

    /// Frees what a finished process held: its output pipe and cgroup.
    func release(_ entry: Entry) {
        guard let running = entry.running else { return }
        close(running.outputFD)
        running.cgroup?.remove()
        entry.running = nil
    }

    func drainOutput(_ entry: Entry, _ running: RunningReplica) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        // Bounded per tick so a chatty replica cannot starve the loop.
        for _ in 0..<16 {
            let n = buffer.withUnsafeMutableBytes { read(running.outputFD, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            entry.log.append(buffer[0..<n])
        }
    }

    func publish() {
        let readUsage = now - lastUsageRead >= 1
        if readUsage { lastUsageRead = now }
        var snapshots: [String: ReplicaSnapshot] = [:]
        for (id, entry) in entries {
            if readUsage {
                entry.lastUsage = (entry.running?.cgroup?.memoryUsageBytes(), entry.running?.cgroup?.cpuUsageMicros())
            }
            snapshots[id] = ReplicaSnapshot(
                id: id, phase: entry.lifecycle.phase, restarts: entry.lifecycle.restarts,
                condition: entry.lifecycle.condition, endpoint: entry.running.map { "unix:" + $0.socketPath },
                pid: entry.running?.pid, memoryBytes: entry.lastUsage.memory, cpuMicros: entry.lastUsage.cpu,
                logTail: entry.log.lines,
                startupMillis: entry.lifecycle.startupSeconds.map { Int(($0 * 1000).rounded()) })
        }
        supervisor.shared.withLock { $0.snapshots = snapshots }
    }
}
