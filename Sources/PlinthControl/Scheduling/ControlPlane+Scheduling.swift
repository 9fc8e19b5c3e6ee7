import Foundation
import PlinthCore
import PlinthStore
import Synchronization

extension ControlPlane {
    /// One scheduling pass: places the wanted replicas on the workers (see `Scheduler`), updates
    /// each worker's desired state (its generation grows when the set changes), writes the
    /// replica_status rows that changed, and records Unschedulable / Rescheduled events.
    /// Runs after every heartbeat and once a second in the background.
    public func reconcileCluster(now: Date = Date()) {
        loadWorkersIfNeeded()
        cluster.reconciling.withLock { _ in
            let snapshot = routingSnapshot()
            refreshCatalogue(version: snapshot.version, snapshot: snapshot)
            var writes: [(worker: String, records: [ReplicaStatusRecord])] = []
            var events: [(tenant: String, deployment: String, type: String, reason: String, message: String)] = []
            let missingAfter = cluster.settings.missingAfterSeconds
            cluster.state.withLock { state in
                let wanted = WantedReplica.all(in: snapshot, classes: state.classes)
                let byID = Dictionary(wanted.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                let ready = Set(
                    state.workers.values.filter { $0.isReady(now: now, missingAfter: missingAfter) }.map(\.id))
                for id in state.readyWorkers.subtracting(ready) {
                    logger.warning(
                        "worker missing", ["worker": .string(id), "node": .string(state.workers[id]?.name ?? "")])
                }
                state.readyWorkers = ready
                // What runs where: the last placements, plus replicas a worker reports that have
                // none (after a control-plane restart), so a restart moves nothing.
                var current = state.assignments
                for worker in state.workers.values.sorted(by: { $0.id < $1.id }) where ready.contains(worker.id) {
                    for report in worker.reports.values
                    where current[report.id] == nil && byID[report.id] != nil && report.phase != .stopped {
                        // The GPUs it held before the restart, so no replica is handed another's.
                        if let recovered = state.recovered.removeValue(forKey: report.id),
                            recovered.workerID == worker.id
                        {
                            current[report.id] = recovered
                        } else {
                            current[report.id] = Placement(workerID: worker.id)
                        }
                    }
                }
                let workers = state.workers.values.map {
                    SchedulableWorker(
                        id: $0.id, name: $0.name, cpuMillicores: $0.capacity.cpuMillicores,
                        memoryBytes: $0.capacity.memoryBytes, gpus: $0.capacity.gpus, ready: ready.contains($0.id))
                }
                // New replicas of a deployment that are ready (as last reported), for the surge.
                var readyNew: [String: Int] = [:]
                for (id, placement) in state.assignments where ready.contains(placement.workerID) {
                    if state.workers[placement.workerID]?.reports[id]?.phase == .ready, let replica = byID[id] {
                        readyNew[replica.demand.deploymentKey, default: 0] += 1
                    }
                }
                RolloutSurge.update(
                    &state.retiring, previousIDs: state.wantedIDs, previous: state.wanted, wanted: byID,
                    placed: Set(state.assignments.keys), readyNew: readyNew, now: now)
                let result = Scheduler.schedule(
                    workers: workers, replicas: wanted.map(\.demand), current: current, quotas: state.quotas)
                // Retiring replicas stay where they run if what the new ones left still fits them.
                let retiring = state.retiring.values.map(\.replica).sorted { $0.id < $1.id }
                let kept = Scheduler.schedule(
                    workers: Scheduler.remaining(
                        workers: workers, replicas: wanted.map(\.demand), placements: result.placements),
                    replicas: retiring.map(\.demand),
                    current: state.assignments.filter { state.retiring[$0.key] != nil }
                ).placements.filter { state.assignments[$0.key] == $0.value }
                state.retiring = state.retiring.filter { kept[$0.key] != nil }
                let everything = (wanted + retiring.filter { kept[$0.id] != nil }).sorted { $0.id < $1.id }
                let all = Dictionary(everything.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                for (id, placement) in result.placements.sorted(by: { $0.key < $1.key }) {
                    guard let before = state.assignments[id], before.workerID != placement.workerID,
                        let replica = byID[id]
                    else { continue }
                    let from = state.workers[before.workerID]
                    let why = ready.contains(before.workerID) ? "" : " (missing since \(missingAfter) s)"
                    events.append(
                        (
                            replica.deployment.tenant, replica.deployment.name, "Normal", "Rescheduled",
                            "replica \(id) moved from worker \(from?.name ?? before.workerID)\(why) to \(state.workers[placement.workerID]?.name ?? placement.workerID)"
                        ))
                }
                state.assignments = result.placements.merging(kept) { a, _ in a }
                state.wanted = all
                state.wantedIDs = Set(byID.keys)
                state.unschedulable = result.unschedulable

                for id in state.workers.keys.sorted() {
                    guard var entry = state.workers[id] else { continue }
                    let desired = everything.compactMap { replica -> DesiredReplica? in
                        guard let placement = state.assignments[replica.id], placement.workerID == id else {
                            return nil
                        }
                        return replica.desired(
                            placement: placement, artifactSizeBytes: state.artifactSizes[replica.version.sha256] ?? 0)
                    }
                    if desired != entry.desired {
                        entry.desired = desired
                        entry.generation += 1
                    }
                    let records = desired.compactMap { replica -> ReplicaStatusRecord? in
                        guard let wanted = all[replica.id] else { return nil }
                        let report = entry.reports[replica.id]
                        return ReplicaStatusRecord(
                            tenant: wanted.deployment.tenant, deployment: wanted.deployment.name, replica: replica.id,
                            model: wanted.version.model, version: wanted.version.version,
                            state: (report?.phase ?? .pending).rawValue,
                            reason: report?.condition.map { "\($0.reason): \($0.message)" },
                            gpuIndices: replica.gpuIndices)
                    }
                    if entry.written != records {
                        entry.written = records
                        writes.append((entry.name, records))
                    }
                    state.workers[id] = entry
                }

                // Unplaced replicas: rows with worker "" and the reason; one event per change.
                var unplaced: [ReplicaStatusRecord] = []
                var reasons: [String: [String]] = [:]
                for (id, reason) in result.unschedulable.sorted(by: { $0.key < $1.key }) {
                    guard let replica = byID[id] else { continue }
                    unplaced.append(
                        ReplicaStatusRecord(
                            tenant: replica.deployment.tenant, deployment: replica.deployment.name, replica: id,
                            model: replica.version.model, version: replica.version.version, state: "pending",
                            reason: reason))
                    reasons[replica.demand.deploymentKey, default: []].append(reason)
                }
                if state.writtenUnplaced != unplaced {
                    state.writtenUnplaced = unplaced
                    writes.append(("", unplaced))
                }
                var announced: [String: String] = [:]
                for (key, list) in reasons {
                    let text = Array(Set(list)).sorted().joined(separator: "; ")
                    announced[key] = text
                    guard state.announced[key] != text, let slash = key.firstIndex(of: "/") else { continue }
                    let first = list.first ?? ""
                    let reason = String(first.prefix { $0 != ":" })
                    events.append(
                        (
                            String(key[..<slash]), String(key[key.index(after: slash)...]), "Warning", reason,
                            "\(list.count) replica\(list.count == 1 ? "" : "s") not placed: \(text)"
                        ))
                }
                state.announced = announced
            }
            for write in writes {
                do {
                    try recordReplicaReports(write.records, worker: write.worker)
                } catch {
                    logger.warning("replica status not recorded", ["error": .string("\(error)")])
                }
            }
            for event in events {
                try? recordDeploymentEvent(
                    tenant: event.tenant, deployment: event.deployment, type: event.type, reason: event.reason,
                    message: event.message)
            }
        }
    }

    /// Re-reads instance classes, tenant quotas and artifact sizes when the snapshot changed.
    private func refreshCatalogue(version: Int64, snapshot: RoutingSnapshot) {
        guard cluster.state.withLock({ $0.catalogueVersion != version }) else { return }
        let classes = (try? instanceClassLimits()) ?? [:]
        let quotas: [String: ReplicaQuota] =
            (try? store.read { db in
                var out: [String: ReplicaQuota] = [:]
                for row in try db.query("SELECT name, max_replicas, max_gpu_replicas FROM tenants") {
                    out[try row.string("name")] = ReplicaQuota(
                        maxReplicas: row.optionalInt("max_replicas"),
                        maxGPUReplicas: row.optionalInt("max_gpu_replicas"))
                }
                return out
            }) ?? [:]
        var sizes: [String: UInt64] = [:]
        for deployments in snapshot.deployments.values {
            for deployment in deployments.values {
                for version in deployment.versions + (deployment.shadow.map { [$0] } ?? [])
                where sizes[version.sha256] == nil {
                    let attributes = try? FileManager.default.attributesOfItem(atPath: blobs.path(for: version.sha256))
                    sizes[version.sha256] = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
                }
            }
        }
        cluster.state.withLock { state in
            state.catalogueVersion = version
            state.classes = classes
            state.quotas = quotas
            state.artifactSizes = sizes
        }
    }
}
