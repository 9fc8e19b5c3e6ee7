import PlinthControl
import PlinthCore
import XCTest

/// The scheduler as a pure function: capacities + wanted replicas + current placements + quotas.
final class SchedulerTests: XCTestCase {
    static let gib: UInt64 = 1 << 30

    func worker(_ name: String, cpus: Int = 4, memoryGiB: UInt64 = 16, gpus: [String] = [], ready: Bool = true)
        -> SchedulableWorker
    {
        SchedulableWorker(
            id: "w-" + name, name: name, cpuMillicores: cpus * 1000, memoryBytes: memoryGiB * Self.gib,
            gpus: gpus.enumerated().map {
                GPUDevice(
                    index: $0.offset, name: $0.element, memoryBytes: 80 * Self.gib, uuid: "GPU-\(name)-\($0.offset)")
            },
            ready: ready)
    }

    func replicas(
        _ deployment: String, _ count: Int, tenant: String = "acme", cpus: Int = 1, memoryGiB: UInt64 = 2,
        gpus: Int = 0,
        gpuKind: String? = nil
    ) -> [ReplicaDemand] {
        (0..<count).map {
            ReplicaDemand(
                id: "\(deployment)-\($0)", tenant: tenant, deployment: deployment, cpuMillicores: cpus * 1000,
                memoryBytes: memoryGiB * Self.gib, gpus: gpus, gpuKind: gpuKind)
        }
    }

    func testReplicasFitOnlyWhereCPUAndMemoryAreFree() {
        let result = Scheduler.schedule(
            workers: [worker("small", cpus: 1, memoryGiB: 4), worker("big", cpus: 8, memoryGiB: 4)],
            replicas: replicas("heavy", 1, cpus: 4), current: [:])
        XCTAssertEqual(result.placements["heavy-0"]?.workerID, "w-big")
        XCTAssertEqual(result.unschedulable, [:])

        let full = Scheduler.schedule(
            workers: [worker("a", cpus: 2, memoryGiB: 64)], replicas: replicas("heavy", 3, cpus: 1, memoryGiB: 8),
            current: [:])
        XCTAssertEqual(full.placements.count, 2, "two 1-vCPU replicas fill a 2-vCPU worker")
        XCTAssertEqual(full.unschedulable.count, 1)
    }

    func testReplicasOfOneDeploymentSpreadAcrossWorkers() {
        let result = Scheduler.schedule(
            workers: [worker("a"), worker("b"), worker("c")], replicas: replicas("fraud", 3), current: [:])
        XCTAssertEqual(Set(result.placements.values.map(\.workerID)), ["w-a", "w-b", "w-c"])
        let six = Scheduler.schedule(
            workers: [worker("a"), worker("b"), worker("c")], replicas: replicas("fraud", 6), current: [:])
        var perWorker: [String: Int] = [:]
        for placement in six.placements.values { perWorker[placement.workerID, default: 0] += 1 }
        XCTAssertEqual(perWorker, ["w-a": 2, "w-b": 2, "w-c": 2])
    }

    func testSchedulingIsDeterministicAndStable() {
        let workers = [worker("a"), worker("b")]
        let wanted = replicas("x", 3) + replicas("y", 2)
        let first = Scheduler.schedule(workers: workers, replicas: wanted, current: [:])
        XCTAssertEqual(
            first, Scheduler.schedule(workers: workers.reversed(), replicas: wanted.reversed(), current: [:]))
        // Adding a worker does not move replicas that fit where they are.
        let again = Scheduler.schedule(workers: workers + [worker("c")], replicas: wanted, current: first.placements)
        XCTAssertEqual(again.placements, first.placements)
    }

    func testGPUsAreAssignedExclusivelyAndOnlyOfTheRightKind() {
        let workers = [
            worker("cpu-only", cpus: 32, memoryGiB: 256),
            worker(
                "gpu", cpus: 32, memoryGiB: 256, gpus: ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3", "NVIDIA A10"]),
        ]
        let result = Scheduler.schedule(
            workers: workers, replicas: replicas("llm", 3, cpus: 4, memoryGiB: 16, gpus: 1, gpuKind: "h100"),
            current: [:])
        let placed = result.placements.values.sorted { $0.gpuIndices.first ?? -1 < $1.gpuIndices.first ?? -1 }
        XCTAssertEqual(placed.map(\.workerID), ["w-gpu", "w-gpu"])
        XCTAssertEqual(placed.map(\.gpuIndices), [[0], [1]], "each H100 goes to one replica; the A10 is not an H100")
        XCTAssertEqual(result.unschedulable["llm-2"], "Unschedulable: no worker has 1 GPU of kind h100 free")

        let pair = Scheduler.schedule(workers: workers, replicas: replicas("big", 1, gpus: 2), current: [:])
        XCTAssertEqual(pair.placements["big-0"], Placement(workerID: "w-gpu", gpuIndices: [0, 1]))
        // Kept GPUs stay; a newcomer gets a free one.
        let more = Scheduler.schedule(
            workers: workers, replicas: replicas("big", 1, gpus: 2) + replicas("small", 1, gpus: 1),
            current: pair.placements)
        XCTAssertEqual(more.placements["big-0"]?.gpuIndices, [0, 1])
        XCTAssertEqual(more.placements["small-0"]?.gpuIndices, [2])
    }

    func testTenantQuotasLimitReplicasAndGPUReplicas() {
        let workers = [worker("a", cpus: 64, memoryGiB: 512, gpus: ["H100", "H100", "H100"])]
        let wanted = replicas("cpu", 3) + replicas("gpu", 2, gpus: 1) + replicas("other", 2, tenant: "globex")
        let gpuCapped = Scheduler.schedule(
            workers: workers, replicas: wanted, current: [:],
            quotas: ["acme": ReplicaQuota(maxReplicas: 5, maxGPUReplicas: 1)])
        XCTAssertEqual(gpuCapped.placements.keys.filter { $0.hasPrefix("gpu") }.count, 1)
        XCTAssertEqual(gpuCapped.unschedulable["gpu-1"], "QuotaExceeded: tenant acme may run at most 1 GPU replica")
        XCTAssertEqual(gpuCapped.placements.keys.filter { $0.hasPrefix("other") }.count, 2, "globex has no quota")

        let capped = Scheduler.schedule(
            workers: workers, replicas: wanted, current: [:], quotas: ["acme": ReplicaQuota(maxReplicas: 2)])
        XCTAssertEqual(capped.placements.keys.filter { !$0.hasPrefix("other") }.count, 2)
        XCTAssertEqual(capped.unschedulable.count, 3)
        XCTAssertTrue(
            capped.unschedulable.values.allSatisfy { $0 == "QuotaExceeded: tenant acme may run at most 2 replicas" })
        // Placed replicas are admitted first: a quota cut never evicts a running replica.
        let kept = Scheduler.schedule(
            workers: workers, replicas: wanted, current: ["gpu-1": Placement(workerID: "w-a", gpuIndices: [2])],
            quotas: ["acme": ReplicaQuota(maxReplicas: 1)])
        XCTAssertEqual(kept.placements["gpu-1"], Placement(workerID: "w-a", gpuIndices: [2]))
        XCTAssertEqual(kept.placements.keys.filter { !$0.hasPrefix("other") }.count, 1)
    }

    func testUnschedulableReasonNamesTheShortResource() {
        let workers = [worker("a", cpus: 2, memoryGiB: 64), worker("b", cpus: 8, memoryGiB: 4)]
        let table: [(ReplicaDemand, String)] = [
            (replicas("c", 1, cpus: 16)[0], "Unschedulable: no worker has 16 vCPU free"),
            (replicas("m", 1, cpus: 1, memoryGiB: 128)[0], "Unschedulable: no worker has 128 GiB of memory free"),
            (replicas("g", 1, gpus: 1)[0], "Unschedulable: no worker has 1 GPU free"),
            (
                replicas("both", 1, cpus: 4, memoryGiB: 32)[0],
                "Unschedulable: no worker has 4 vCPU, 32 GiB of memory free at once"
            ),
        ]
        for (demand, reason) in table {
            let result = Scheduler.schedule(workers: workers, replicas: [demand], current: [:])
            XCTAssertEqual(result.unschedulable[demand.id], reason)
        }
        let none = Scheduler.schedule(workers: [worker("a", ready: false)], replicas: replicas("x", 1), current: [:])
        XCTAssertEqual(none.unschedulable["x-0"], "Unschedulable: no ready worker")
    }

    func testReplicasOfAMissingWorkerArePlacedElsewhere() {
        let first = Scheduler.schedule(workers: [worker("a"), worker("b")], replicas: replicas("x", 2), current: [:])
        XCTAssertEqual(Set(first.placements.values.map(\.workerID)), ["w-a", "w-b"])
        let after = Scheduler.schedule(
            workers: [worker("a", ready: false), worker("b")], replicas: replicas("x", 2), current: first.placements)
        XCTAssertEqual(Set(after.placements.values.map(\.workerID)), ["w-b"])
        XCTAssertEqual(after.placements.count, 2)
        // The one that was on b did not move.
        let onB = first.placements.first { $0.value.workerID == "w-b" }?.key
        XCTAssertEqual(after.placements[onB ?? ""]?.workerID, "w-b")
    }

    func testReplicaCountsSplitByWeightWithOneForAShadow() {
        func version(_ v: String, _ weight: Int) -> RoutingVersion {
            RoutingVersion(
                model: "m", version: v, weight: weight, format: "onnx", sha256: String(repeating: v, count: 64),
                artifactPath: "/x", signature: nil)
        }
        var deployment = RoutingDeployment(
            tenant: "acme", name: "d", revision: 1, versions: [version("1", 90), version("2", 10)],
            shadow: version("3", 0),
            instanceClass: "cpu-small", minReplicas: 4, maxReplicas: 4, maxBatchSize: 1, maxQueueDelayMicros: 0,
            requestTimeoutMillis: 1000, maxPayloadBytes: 1024, targetConcurrency: 4)
        XCTAssertEqual(WantedReplica.replicaCounts(deployment).map { $0.1 }, [4, 1, 1])
        let id = WantedReplica.replicaID(deployment: deployment, version: deployment.versions[0], index: 0)
        deployment.maxBatchSize = 8
        XCTAssertNotEqual(
            WantedReplica.replicaID(deployment: deployment, version: deployment.versions[0], index: 0), id)
        let snapshot = RoutingSnapshot(version: 1, deployments: ["acme": ["d": deployment]])
        let wanted = WantedReplica.all(
            in: snapshot,
            classes: [
                "cpu-small": InstanceClassLimits(
                    name: "cpu-small", vcpus: 1.5, memoryBytes: 1 << 30, gpuCount: 0, gpuKind: nil)
            ])
        XCTAssertEqual(wanted.count, 6)
        XCTAssertEqual(Set(wanted.map(\.demand.cpuMillicores)), [1500])
        XCTAssertEqual(wanted.filter(\.shadow).count, 1)
    }
}
