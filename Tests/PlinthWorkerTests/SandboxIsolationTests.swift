import Foundation
import PlinthCore
import XCTest

@testable import PlinthWorker

#if canImport(Glibc)
    import Glibc
#endif

/// End-to-end isolation claims, checked with real replica processes.
final class SandboxIsolationTests: XCTestCase {
    func testIsolationLevelIsDetectedAndDescribed() throws {
        let harness = try SandboxHarness(requireNamespaces: false)
        defer { harness.cleanUp() }
        let level = harness.isolation
        XCTAssertEqual(level.runsAsRoot, geteuid() == 0)
        XCTAssertEqual(level.dedicatedUsers, geteuid() == 0)
        XCTAssertEqual(level.cgroup, harness.hierarchy.mode)
        if level.cgroup != .none {
            XCTAssertTrue(Set(level.cgroupControllers).isSuperset(of: ["memory", "cpu", "pids"]))
        }
        XCTAssertTrue(level.description.contains("cgroup="), level.description)
        let decoded = try JSONDecoder().decode(IsolationLevel.self, from: JSONEncoder().encode(level))
        XCTAssertEqual(decoded, level)
    }

    func testReplicaCannotReadAnotherReplicasArtifact() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let mine = try harness.cachedFile("a.bin", "model-of-a")
        let theirs = try harness.cachedFile("b.bin", "secret-of-b")
        let other = harness.sandbox.directory(of: "replica-b") + "/artifact/model.bin"
        // replica-b's folder exists while replica-a runs.
        try harness.sandbox.prepareFolders(
            dir: harness.sandbox.directory(of: "replica-b"),
            artifactDir: harness.sandbox.directory(of: "replica-b") + "/artifact",
            runDir: harness.sandbox.directory(of: "replica-b") + "/run", files: ["model.bin": theirs],
            uid: harness.isolation.dedicatedUsers ? try harness.sandbox.uids.acquire(for: "replica-b") : nil)
        let (status, output) = try harness.run(
            "replica-a",
            [
                "/bin/sh", "-c",
                "cat model.bin; echo; umount \(harness.dataDirectory) 2>/dev/null || echo cannot-unmount; cat \(other) || echo denied; cat \(theirs) || echo denied; echo listing: $(ls \(harness.dataDirectory)/replicas)",
            ],
            files: ["model.bin": mine])
        XCTAssertEqual(status, .exited(0), output)
        XCTAssertTrue(output.contains("model-of-a"), output)
        XCTAssertTrue(output.contains("cannot-unmount"), output)
        XCTAssertFalse(output.contains("secret-of-b"), output)
        XCTAssertTrue(output.contains("listing: replica-a\n"), "the neighbour's folder is hidden: \(output)")
    }

    func testDedicatedUIDAloneKeepsNeighboursOut() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        guard harness.isolation.dedicatedUsers else { throw XCTSkip("needs a root agent (dedicated uids)") }
        // Without a mount namespace only file permissions separate the replicas.
        var level = harness.isolation
        level.mountNamespace = false
        level.pidNamespace = false
        let sandbox = ReplicaSandbox(
            isolation: level, hierarchy: .unavailable, launcherPath: harness.sandbox.launcherPath,
            replicasDirectory: harness.sandbox.replicasDirectory, hiddenPaths: [])
        let theirs = try harness.cachedFile("b.bin", "secret-of-b")
        let dirB = sandbox.directory(of: "replica-b")
        try sandbox.prepareFolders(
            dir: dirB, artifactDir: dirB + "/artifact", runDir: dirB + "/run", files: ["model.bin": theirs],
            uid: try sandbox.uids.acquire(for: "replica-b"))
        let running = try sandbox.launch(
            ReplicaLaunch(
                id: "replica-a",
                command: [
                    "/bin/sh", "-c",
                    "cat \(dirB)/artifact/model.bin || echo denied; ls \(dirB)/artifact || echo no-list; touch \(dirB)/run/x || echo no-write",
                ], limits: SandboxHarness.limits))
        defer { close(running.outputFD) }
        XCTAssertTrue(SandboxHarness.waitUntil { ChildProcess.poll(running.pid) != nil })
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(running.outputFD, $0.baseAddress, $0.count) }
        let output = String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
        XCTAssertFalse(output.contains("secret-of-b"), output)
        for expected in ["denied", "no-list", "no-write"] { XCTAssertTrue(output.contains(expected), output) }
    }

    func testCgroupLimitsComeFromTheInstanceClassAndCapProcesses() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        guard harness.hierarchy.mode == .v1 else {
            throw XCTSkip("checks v1 files; this host has \(harness.hierarchy.mode)")
        }
        var limits = SandboxHarness.limits
        limits.maxProcesses = 12
        limits.cpuMillicores = 250
        limits.memoryBytes = 100 << 20
        let group = try ReplicaCgroup.create(
            in: harness.hierarchy, name: "limits-probe",
            limits: CgroupLimits(
                memoryBytes: limits.memoryBytes, cpuMillicores: limits.cpuMillicores, pids: limits.maxProcesses))
        defer { group.remove() }
        func read(_ controller: String, _ file: String) -> String? {
            ReplicaCgroup.read((group.directories[controller] ?? "") + "/" + file)
        }
        XCTAssertEqual(read("memory", "memory.limit_in_bytes"), String(100 << 20))
        XCTAssertEqual(read("cpu", "cpu.cfs_quota_us"), "25000")
        XCTAssertEqual(read("cpu", "cpu.cfs_period_us"), "100000")
        XCTAssertEqual(read("pids", "pids.max"), "12")
        // A fork bomb stops at the process limit (cgroup pids.max, and RLIMIT_NPROC with a dedicated uid).
        let script = """
            import os, signal, time
            pids = []
            for i in range(40):
                try:
                    pid = os.fork()
                except OSError as e:
                    print("fork refused")
                    break
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                pids.append(pid)
            print("forked", len(pids))
            for p in pids:
                os.kill(p, signal.SIGKILL)
            """
        let (status, output) = try harness.run("forker", ["/usr/bin/python3", "-c", script], limits: limits)
        XCTAssertEqual(status, .exited(0), output)
        XCTAssertTrue(output.contains("fork refused"), output)
        let forked = output.split(separator: "\n").first { $0.hasPrefix("forked ") }.flatMap {
            Int($0.dropFirst("forked ".count))
        }
        XCTAssertLessThanOrEqual(forked ?? 99, 12, output)
    }

    func testSeccompDeniesNamespacesAndPtrace() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        guard harness.isolation.seccomp else { throw XCTSkip("seccomp filters are not available here") }
        let script =
            "/usr/bin/unshare --user /bin/true 2>/dev/null && echo unshare-allowed || echo unshare-denied; "
            + "/usr/bin/python3 -c 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
            + "print(\"ptrace\", libc.ptrace(0, 0, 0, 0), ctypes.get_errno())'"
        let (status, output) = try harness.run("replica-seccomp", ["/bin/sh", "-c", script])
        XCTAssertEqual(status, .exited(0), output)
        XCTAssertTrue(output.contains("unshare-denied"), output)
        XCTAssertTrue(output.contains("ptrace -1 1"), "PTRACE_TRACEME fails with EPERM: \(output)")
    }

    func testReplicaCannotWriteItsArtifact() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let model = try harness.cachedFile("m.bin", "weights")
        let (status, output) = try harness.run(
            "replica-w",
            [
                "/bin/sh", "-c",
                "echo x >> model.bin || echo no-write; rm -f model.bin || echo no-delete; touch new || echo no-create; touch \"$PLINTH_SOCKET.tmp\" && echo run-writable",
            ],
            files: ["model.bin": model])
        XCTAssertEqual(status, .exited(0), output)
        for expected in ["no-write", "no-delete", "no-create", "run-writable"] {
            XCTAssertTrue(output.contains(expected), output)
        }
        XCTAssertEqual(try String(contentsOfFile: model, encoding: .utf8), "weights")
    }

    func testReplicaCannotReachTheNetwork() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let listener = try TCPListener()
        defer { listener.close() }
        XCTAssertTrue(listener.acceptsLocalConnection(), "control: the listener is reachable from the host")
        let script = """
            import socket
            s = socket.socket()
            s.settimeout(3)
            try:
                s.connect(("127.0.0.1", \(listener.port)))
                print("connected")
            except OSError as e:
                print("blocked:", e)
            """
        let (status, output) = try harness.run("replica-net", ["/usr/bin/python3", "-c", script])
        XCTAssertEqual(status, .exited(0), output)
        XCTAssertTrue(output.contains("blocked"), output)
        XCTAssertFalse(output.contains("connected"), output)
    }

    func testReplicaSeesOnlyItsOwnProcesses() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        let hostPIDs = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { Int($0) }
        XCTAssertGreaterThan(hostPIDs.count, 5)
        let (status, output) = try harness.run("replica-pid", ["/bin/sh", "-c", "echo self=$$; ls /proc"])
        XCTAssertEqual(status, .exited(0), output)
        let pids = output.split(whereSeparator: { $0 == "\n" || $0 == " " }).compactMap { Int($0) }
        XCTAssertTrue(output.contains("self=2"), "the replica is PID 2 under the namespace's init: \(output)")
        XCTAssertLessThanOrEqual(pids.count, 4, "only the namespace's own processes: \(pids)")
    }

    func testReplicaGetsOnlyItsEnvironmentLimitsAndIdentity() throws {
        let harness = try SandboxHarness()
        defer { harness.cleanUp() }
        setenv("PLINTH_TEST_CANARY", "leaked", 1)
        defer { unsetenv("PLINTH_TEST_CANARY") }
        let (status, output) = try harness.run(
            "replica-env",
            [
                "/bin/sh", "-c",
                "env | sort; echo nofile=$(ulimit -n) core=$(ulimit -c) uid=$(id -u); grep NoNewPrivs /proc/self/status; hostname",
            ])
        XCTAssertEqual(status, .exited(0), output)
        XCTAssertFalse(output.contains("leaked"), output)
        XCTAssertTrue(output.contains("nofile=200"), output)
        XCTAssertTrue(output.contains("core=0"), output)
        XCTAssertTrue(output.contains("NoNewPrivs:\t1"), output)
        XCTAssertTrue(
            output.contains("PLINTH_SOCKET=\(harness.sandbox.directory(of: "replica-env"))/run/replica.sock"), output)
        XCTAssertTrue(output.contains("CUDA_VISIBLE_DEVICES=\n"), "CPU classes see no GPU: \(output)")
        if harness.isolation.dedicatedUsers {
            let uid = output.split(separator: " ").first { $0.hasPrefix("uid=") }.flatMap {
                UInt32($0.dropFirst(4).prefix { $0.isNumber })
            }
            XCTAssertTrue(
                uid.map { harness.sandbox.uids.range.contains($0) } ?? false, "runs as a dedicated uid: \(output)")
        }
    }

    func testReservedEnvironmentNamesCannotBeOverridden() throws {
        let sandbox = ReplicaSandbox(
            isolation: .minimal(runsAsRoot: false), hierarchy: .unavailable, launcherPath: "/bin/false",
            replicasDirectory: "/tmp/x", hiddenPaths: [])
        let launch = ReplicaLaunch(
            id: "r", command: ["x"], environment: ["PLINTH_SOCKET": "/evil", "OMP_NUM_THREADS": "2"],
            limits: SandboxHarness.limits, gpuIndices: [1, 3])
        let spec = sandbox.makeSpec(
            launch, executable: "x", uid: nil, artifactDir: "/a", runDir: "/r", socketPath: "/r/s", cgroup: nil)
        XCTAssertEqual(spec.environment["PLINTH_SOCKET"], "/r/s")
        XCTAssertEqual(spec.environment["OMP_NUM_THREADS"], "2")
        XCTAssertEqual(spec.environment["CUDA_VISIBLE_DEVICES"], "1,3")
        XCTAssertEqual(spec.environment["NVIDIA_VISIBLE_DEVICES"], "1,3")
        XCTAssertNil(spec.limits.addressSpaceBytes, "GPU replicas get no address-space limit")
    }
}

/// A TCP listener on 127.0.0.1 with an ephemeral port.
final class TCPListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw SandboxError.system(call: "bind", errno: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func acceptsLocalConnection() -> Bool {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    func close() { Glibc.close(fd) }
}
