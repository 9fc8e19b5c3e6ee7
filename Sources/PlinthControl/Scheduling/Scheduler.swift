import PlinthCore

/// Places replicas on workers. A pure function of its inputs, so it is deterministic and tested
/// without sockets: capacities + wanted replicas + current placements + quotas → placements and,
/// for each replica that fits nowhere, why.
///
/// Rules, in order:
/// 1. Quotas: a tenant's replicas beyond `maxReplicas` (GPU replicas beyond `maxGPUReplicas`) are
///    refused; replicas already placed are admitted first, so a quota cut never moves them.
/// 2. Stability: a replica keeps its worker (and GPUs) while that worker is ready and it still fits.
/// 3. Fit: CPU millicores and memory must be free; a GPU replica needs that many free GPUs of the
///    class's kind on one worker. GPUs are never shared: each index goes to one replica.
/// 4. Spread: among the workers that fit, the one with the fewest replicas of the same deployment,
///    then the most free CPU, then the name.
public enum Scheduler {
    public static func schedule(
        workers: [SchedulableWorker], replicas: [ReplicaDemand], current: [String: Placement],
        quotas: [String: ReplicaQuota] = [:]
    ) -> SchedulerResult {
        var result = SchedulerResult()
        let ready = workers.filter(\.ready).sorted { ($0.name, $0.id) < ($1.name, $1.id) }
        var free = Dictionary(uniqueKeysWithValues: ready.map { ($0.id, FreeCapacity(worker: $0)) })
        var spread: [String: [String: Int]] = [:]

        let admitted = admit(replicas, current: current, quotas: quotas, result: &result)

        // Keep what is placed and still fits.
        for demand in admitted {
            guard let placement = current[demand.id], var capacity = free[placement.workerID],
                capacity.canKeep(demand, gpuIndices: placement.gpuIndices)
            else { continue }
            capacity.reserve(demand, gpuIndices: placement.gpuIndices)
            free[placement.workerID] = capacity
            spread[placement.workerID, default: [:]][demand.deploymentKey, default: 0] += 1
            result.placements[demand.id] = Placement(
                workerID: placement.workerID, gpuIndices: placement.gpuIndices.sorted())
        }

        // Place the rest.
        for demand in admitted where result.placements[demand.id] == nil {
            let candidates = ready.filter { free[$0.id]?.fits(demand) ?? false }
            let best = candidates.min { a, b in
                let sa = spread[a.id]?[demand.deploymentKey] ?? 0
                let sb = spread[b.id]?[demand.deploymentKey] ?? 0
                if sa != sb { return sa < sb }
                let fa = free[a.id]?.cpuMillicores ?? 0
                let fb = free[b.id]?.cpuMillicores ?? 0
                if fa != fb { return fa > fb }
                return (a.name, a.id) < (b.name, b.id)
            }
            guard let best, var capacity = free[best.id] else {
                result.unschedulable[demand.id] = reason(demand, free: ready.compactMap { free[$0.id] })
                continue
            }
            let gpus = capacity.pickGPUs(demand)
            capacity.reserve(demand, gpuIndices: gpus)
            free[best.id] = capacity
            spread[best.id, default: [:]][demand.deploymentKey, default: 0] += 1
            result.placements[demand.id] = Placement(workerID: best.id, gpuIndices: gpus)
        }
        return result
    }

    /// What `workers` have left once `placements` of `replicas` are reserved.
    public static func remaining(
        workers: [SchedulableWorker], replicas: [ReplicaDemand], placements: [String: Placement]
    ) -> [SchedulableWorker] {
        var out = Dictionary(uniqueKeysWithValues: workers.map { ($0.id, $0) })
        for demand in replicas {
            guard let placement = placements[demand.id], var worker = out[placement.workerID] else { continue }
            worker.cpuMillicores -= demand.cpuMillicores
            worker.memoryBytes -= min(worker.memoryBytes, demand.memoryBytes)
            worker.gpus.removeAll { placement.gpuIndices.contains($0.index) }
            out[placement.workerID] = worker
        }
        return workers.compactMap { out[$0.id] }
    }

    /// The replicas the tenants' quotas allow, in a stable order (placed ones first).
    static func admit(
        _ replicas: [ReplicaDemand], current: [String: Placement], quotas: [String: ReplicaQuota],
        result: inout SchedulerResult
    ) -> [ReplicaDemand] {
        let ordered = replicas.sorted { a, b in
            let pa = current[a.id] == nil ? 1 : 0
            let pb = current[b.id] == nil ? 1 : 0
            return (pa, a.tenant, a.deployment, a.id) < (pb, b.tenant, b.deployment, b.id)
        }
        var all: [String: Int] = [:]
        var gpu: [String: Int] = [:]
        var admitted: [ReplicaDemand] = []
        for demand in ordered {
            let quota = quotas[demand.tenant] ?? ReplicaQuota()
            if let max = quota.maxReplicas, all[demand.tenant, default: 0] >= max {
                result.unschedulable[demand.id] =
                    "QuotaExceeded: tenant \(demand.tenant) may run at most \(max) replica\(max == 1 ? "" : "s")"
                continue
            }
            if demand.gpus > 0, let max = quota.maxGPUReplicas, gpu[demand.tenant, default: 0] >= max {
                result.unschedulable[demand.id] =
                    "QuotaExceeded: tenant \(demand.tenant) may run at most \(max) GPU replica\(max == 1 ? "" : "s")"
                continue
            }
            all[demand.tenant, default: 0] += 1
            if demand.gpus > 0 { gpu[demand.tenant, default: 0] += 1 }
            admitted.append(demand)
        }
        return admitted
    }

    /// Why `demand` fits on none of the ready workers, naming the resource that is short.
    static func reason(_ demand: ReplicaDemand, free: [FreeCapacity]) -> String {
        guard !free.isEmpty else { return "Unschedulable: no ready worker" }
        let cpu = free.contains { $0.cpuMillicores >= demand.cpuMillicores }
        let memory = free.contains { $0.memoryBytes >= demand.memoryBytes }
        let gpus = demand.gpus == 0 || free.contains { $0.matchingGPUs(demand).count >= demand.gpus }
        let vcpus = "\(formatCPU(demand.cpuMillicores)) vCPU"
        let bytes = formatBytes(demand.memoryBytes)
        let gpuText =
            "\(demand.gpus) GPU\(demand.gpus == 1 ? "" : "s")" + (demand.gpuKind.map { " of kind \($0)" } ?? "")
        if !cpu { return "Unschedulable: no worker has \(vcpus) free" }
        if !memory { return "Unschedulable: no worker has \(bytes) of memory free" }
        if !gpus { return "Unschedulable: no worker has \(gpuText) free" }
        let needs = [vcpus, bytes + " of memory"] + (demand.gpus > 0 ? [gpuText] : [])
        return "Unschedulable: no worker has \(needs.joined(separator: ", ")) free at once"
    }

    static func formatCPU(_ millicores: Int) -> String {
        millicores % 1000 == 0
            ? String(millicores / 1000) : String(Double(millicores) / 1000)
    }

    static func formatBytes(_ bytes: UInt64) -> String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 20 { return "\(bytes >> 20) MiB" }
        return "\(bytes) bytes"
    }
}

/// What is left on one worker while the scheduler fills it.
struct FreeCapacity: Sendable {
    var cpuMillicores: Int
    var memoryBytes: UInt64
    /// Free GPUs by index, with their names.
    var gpus: [Int: String]

    init(worker: SchedulableWorker) {
        cpuMillicores = worker.cpuMillicores
        memoryBytes = worker.memoryBytes
        gpus = Dictionary(worker.gpus.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    /// Free GPU indices whose name matches the demand's kind, ascending.
    func matchingGPUs(_ demand: ReplicaDemand) -> [Int] {
        gpus.filter { _, name in
            guard let kind = demand.gpuKind, !kind.isEmpty else { return true }
            return name.lowercased().contains(kind.lowercased())
        }.keys.sorted()
    }

    func fits(_ demand: ReplicaDemand) -> Bool {
        cpuMillicores >= demand.cpuMillicores && memoryBytes >= demand.memoryBytes
            && (demand.gpus == 0 || matchingGPUs(demand).count >= demand.gpus)
    }

    /// Whether the replica can stay with exactly these GPUs.
    func canKeep(_ demand: ReplicaDemand, gpuIndices: [Int]) -> Bool {
        guard cpuMillicores >= demand.cpuMillicores, memoryBytes >= demand.memoryBytes,
            gpuIndices.count == demand.gpus, Set(gpuIndices).count == gpuIndices.count
        else { return false }
        let matching = Set(matchingGPUs(demand))
        return gpuIndices.allSatisfy { matching.contains($0) }
    }

    func pickGPUs(_ demand: ReplicaDemand) -> [Int] {
        demand.gpus == 0 ? [] : Array(matchingGPUs(demand).prefix(demand.gpus))
    }

    mutating func reserve(_ demand: ReplicaDemand, gpuIndices: [Int]) {
        cpuMillicores -= demand.cpuMillicores
        memoryBytes -= min(memoryBytes, demand.memoryBytes)
        for index in gpuIndices { gpus[index] = nil }
    }
}
