import Foundation
import PlinthCore
import XCTest

@testable import PlinthWorker

final class NodeInventoryTests: XCTestCase {
    func testNvidiaSmiOutputIsParsed() {
        let csv = """
            0, NVIDIA H100 80GB HBM3, 81559, GPU-5c3e2b1a-0000-1111-2222-333344445555
            1, NVIDIA H100 80GB HBM3, 81559, GPU-aaaaaaaa-0000-1111-2222-333344445555\r
            garbage line
            2, , 100, GPU-x
            x, Tesla T4, 15360, GPU-y

            """
        let gpus = GPUInventory.parse(csv)
        XCTAssertEqual(gpus.count, 2)
        XCTAssertEqual(
            gpus[0],
            GPUDevice(
                index: 0, name: "NVIDIA H100 80GB HBM3", memoryBytes: 81559 << 20,
                uuid: "GPU-5c3e2b1a-0000-1111-2222-333344445555"))
        XCTAssertEqual(gpus[1].index, 1)
        XCTAssertEqual(GPUInventory.parse(""), [])
    }

    func testGPUDetectionFindsNothingWithoutNvidiaSmi() {
        // This reads the real host: either nvidia-smi answers (then every device parsed) or none.
        let gpus = GPUInventory.detect(searchPath: "/nonexistent")
        let hasTool = ["/usr/bin/nvidia-smi", "/usr/local/bin/nvidia-smi"].contains {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        if !hasTool { XCTAssertEqual(gpus, []) }
    }

    func testCapacityAndUsageAreReadFromProc() {
        let capacity = NodeResources.capacity(gpus: [])
        XCTAssertGreaterThanOrEqual(capacity.cpuMillicores, 1000)
        XCTAssertGreaterThan(capacity.memoryBytes, 0)
        XCTAssertGreaterThan(NodeResources.usage().memoryBytesUsed, 0)
        XCTAssertEqual(NodeResources.meminfoKiB("MemAvailable", "MemTotal:  100 kB\nMemAvailable:   42 kB\n"), 42)
    }

    func testCgroupPlanPrefersV1ControllersOnHybridHosts() {
        let mountinfo = """
            30 25 0:26 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 cgroup2 rw
            31 25 0:27 / /sys/fs/cgroup/memory rw,relatime shared:11 - cgroup cgroup rw,memory
            32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
            33 25 0:29 / /sys/fs/cgroup/pids rw,relatime shared:13 - cgroup cgroup rw,pids
            """
        let membership = "4:memory:/agent\n3:cpu,cpuacct:/\n2:pids:/\n0::/\n"
        let plan = CgroupHierarchy.plan(mountinfo: mountinfo, procCgroup: membership, agentName: "plinth")
        XCTAssertEqual(plan.mode, .v1)
        XCTAssertEqual(plan.bases["memory"], "/sys/fs/cgroup/memory/agent/plinth")
        XCTAssertEqual(plan.bases["cpu"], "/sys/fs/cgroup/cpu,cpuacct/plinth")
        XCTAssertEqual(plan.bases["cpuacct"], "/sys/fs/cgroup/cpu,cpuacct/plinth")
        XCTAssertEqual(plan.bases["pids"], "/sys/fs/cgroup/pids/plinth")

        let unified = CgroupHierarchy.plan(
            mountinfo: "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate",
            procCgroup: "0::/system.slice/plinth.service\n",
            agentName: "replicas")
        XCTAssertEqual(unified.mode, .v2)
        XCTAssertEqual(unified.bases["unified"], "/sys/fs/cgroup/system.slice/plinth.service/replicas")
        XCTAssertEqual(CgroupHierarchy.plan(mountinfo: "", procCgroup: "", agentName: "x").mode, .none)
    }

    func testCgroupCountersAreParsed() {
        XCTAssertEqual(ReplicaCgroup.counter(named: "oom_kill", in: "oom_kill_disable 0\nunder_oom 0\noom_kill 2"), 2)
        XCTAssertEqual(ReplicaCgroup.counter(named: "oom_kill", in: "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"), 1)
        XCTAssertEqual(ReplicaCgroup.counter(named: "oom_kill", in: ""), 0)
    }
}

/// cgroup v2 file formats, against a fake cgroup directory (this host runs v1).
final class CgroupV2FormatTests: XCTestCase {
    func testV2LimitsAndOOMCounterUseTheUnifiedFiles() throws {
        let dir = "/tmp/plinth-fake-cgroup-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for file in ["memory.max", "memory.swap.max", "cpu.max", "pids.max", "cgroup.procs"] {
            FileManager.default.createFile(atPath: dir + "/" + file, contents: Data())
        }
        try "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n".write(
            toFile: dir + "/memory.events", atomically: false, encoding: .utf8)
        try "usage_usec 1234\nuser_usec 1000\n".write(toFile: dir + "/cpu.stat", atomically: false, encoding: .utf8)
        try "4096\n".write(toFile: dir + "/memory.current", atomically: false, encoding: .utf8)
        let group = ReplicaCgroup(mode: .v2, directories: ["unified": dir])
        try group.apply(CgroupLimits(memoryBytes: 64 << 20, cpuMillicores: 1500, pids: 32))
        func read(_ file: String) -> String? { ReplicaCgroup.read(dir + "/" + file) }
        XCTAssertEqual(read("memory.max"), String(64 << 20))
        XCTAssertEqual(read("memory.swap.max"), "0")
        XCTAssertEqual(read("cpu.max"), "150000 100000")
        XCTAssertEqual(read("pids.max"), "32")
        XCTAssertEqual(group.oomKillCount(), 1)
        XCTAssertEqual(group.cpuUsageMicros(), 1234)
        XCTAssertEqual(group.memoryUsageBytes(), 4096)
        XCTAssertEqual(group.procsFiles, [dir + "/cgroup.procs"])
    }
}
