import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// Prepares a replica's folder, cgroup and launch spec, and starts it through the launcher
/// (`<launcherPath> sandbox-exec <folder>/spec.json`).
///
/// Layout under `replicasDirectory/<id>/` (0711 root): `artifact/` (0750 root:<replica gid>,
/// files hard-linked from the cache, 0444) is the working directory; `run/` (0700, owned by
/// the replica) holds `replica.sock` and scratch files; `spec.json` (0600) is the launch spec.
public struct ReplicaSandbox: Sendable {
    public let isolation: IsolationLevel
    public let hierarchy: CgroupHierarchy
    public let launcherPath: String
    public let replicasDirectory: String
    /// Covered by an empty tmpfs in each replica's mount namespace (the agent's data directory).
    public let hiddenPaths: [String]
    /// Dedicated uids (used when the agent is root), unique across the host's agents.
    public let uids: DedicatedUIDs

    public init(
        isolation: IsolationLevel, hierarchy: CgroupHierarchy, launcherPath: String, replicasDirectory: String,
        hiddenPaths: [String], uids: DedicatedUIDs = DedicatedUIDs()
    ) {
        self.isolation = isolation
        self.hierarchy = hierarchy
        self.launcherPath = launcherPath
        self.replicasDirectory = replicasDirectory
        self.hiddenPaths = hiddenPaths
        self.uids = uids
    }

    /// The file in a replica's folder holding its launcher's pid.
    public static let launcherPIDFile = "launcher.pid"

    /// The folder of replica `id`.
    public func directory(of id: String) -> String { replicasDirectory + "/" + id }

    /// Starts replica `launch`. With a root agent it runs under its dedicated uid, which it
    /// keeps until `removeFolder(of:)`.
    public func launch(_ launch: ReplicaLaunch) throws(SandboxError) -> RunningReplica {
        guard ReplicaLaunch.isValidID(launch.id) else { throw .invalidSpec("bad replica id '\(launch.id)'") }
        guard let executable = launch.command.first, !executable.isEmpty else { throw .invalidSpec("empty command") }
        let uid = isolation.dedicatedUsers ? try uids.acquire(for: launch.id) : nil
        let dir = directory(of: launch.id)
        let artifactDir = dir + "/artifact"
        let runDir = dir + "/run"
        try prepareFolders(dir: dir, artifactDir: artifactDir, runDir: runDir, files: launch.files, uid: uid)

        var cgroup: ReplicaCgroup?
        if hierarchy.mode != .none {
            let group = try ReplicaCgroup.create(
                in: hierarchy, name: "replica-" + launch.id,
                limits: CgroupLimits(
                    memoryBytes: launch.limits.memoryBytes, cpuMillicores: launch.limits.cpuMillicores,
                    pids: launch.limits.maxProcesses))
            group.killAll()  // leftovers of an earlier incarnation
            cgroup = group
        }
        let socketPath = runDir + "/replica.sock"
        let spec = makeSpec(
            launch, executable: executable, uid: uid, artifactDir: artifactDir, runDir: runDir, socketPath: socketPath,
            cgroup: cgroup)
        let specPath = dir + "/spec.json"
        do {
            let data = try JSONEncoder().encode(spec)
            _ = FileManager.default.createFile(atPath: specPath, contents: data, attributes: [.posixPermissions: 0o600])
        } catch {
            cgroup?.remove()
            throw .invalidSpec("cannot encode spec: \(error)")
        }
        let oomBaseline = cgroup?.oomKillCount() ?? 0
        let output: (read: Int32, write: Int32)
        do {
            output = try ChildProcess.outputPipe()
        } catch {
            cgroup?.remove()
            throw error
        }
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(
                path: launcherPath, arguments: [launcherPath, "sandbox-exec", specPath],
                environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], outputFD: output.write,
                lifeline: spec.lifelineFD != nil ? ChildProcess.lifeline?.read : nil)
        } catch {
            close(output.read)
            close(output.write)
            cgroup?.remove()
            throw error
        }
        close(output.write)
        // For the next agent on this data directory, should this one die before its replicas.
        _ = FileManager.default.createFile(
            atPath: dir + "/" + Self.launcherPIDFile, contents: Data("\(pid)\n".utf8),
            attributes: [.posixPermissions: 0o600])
        return RunningReplica(
            pid: pid, outputFD: output.read, cgroup: cgroup, socketPath: socketPath, directory: dir,
            oomKillsAtStart: oomBaseline)
    }

    /// The launch spec for `launch`: environment, identity, namespaces, limits and mounts.
    public func makeSpec(
        _ launch: ReplicaLaunch, executable: String, uid: UInt32?, artifactDir: String, runDir: String,
        socketPath: String, cgroup: ReplicaCgroup?
    ) -> SandboxSpec {
        // The caller filters tenant-supplied names; the reserved ones below always win.
        var environment = launch.environment
        environment["PATH"] = PreparedExec.defaultPath
        environment["HOME"] = runDir
        environment["TMPDIR"] = runDir
        environment["LANG"] = "C.UTF-8"
        environment["PLINTH_REPLICA_ID"] = launch.id
        environment["PLINTH_SOCKET"] = socketPath
        environment["PLINTH_LISTEN"] = "unix:" + socketPath
        environment["PLINTH_MODEL_DIR"] = artifactDir
        // Exactly the assigned GPUs; none for CPU classes ("void" hides all from the NVIDIA runtime).
        let gpus = launch.gpuIndices.map(String.init).joined(separator: ",")
        environment["CUDA_VISIBLE_DEVICES"] = gpus
        environment["NVIDIA_VISIBLE_DEVICES"] = gpus.isEmpty ? "void" : gpus
        let masked = (0..<64).filter { !launch.gpuIndices.contains($0) }.map { "/dev/nvidia\($0)" }

        let memory = launch.limits.memoryBytes
        // The cgroup enforces memory (and reports OOM kills); the address-space limit is a
        // backstop, generous because runtimes reserve far more virtual memory than they touch.
        // GPU drivers map huge address ranges, so GPU replicas get none.
        let addressSpace: UInt64? =
            launch.gpuIndices.isEmpty && memory > 0
            ? (cgroup != nil ? memory * 4 + (4 << 30) : memory + (512 << 20)) : nil
        let namespaces = SandboxNamespaces(
            user: isolation.userNamespace && !isolation.runsAsRoot, pid: isolation.pidNamespace,
            mount: isolation.mountNamespace, network: isolation.networkNamespace,
            ipc: isolation.pidNamespace, uts: isolation.pidNamespace)
        return SandboxSpec(
            executable: executable, arguments: launch.command, environment: environment,
            workingDirectory: artifactDir, uid: uid, gid: uid, namespaces: namespaces,
            limits: SandboxRlimits(
                addressSpaceBytes: addressSpace, openFiles: UInt64(max(16, launch.limits.maxOpenFiles)),
                processes: UInt64(max(1, launch.limits.maxProcesses)), coreBytes: 0),
            cgroupProcsFiles: cgroup?.procsFiles ?? [],
            readOnlyPaths: namespaces.mount ? [artifactDir] : [], writablePaths: namespaces.mount ? [runDir] : [],
            hiddenPaths: namespaces.mount ? hiddenPaths : [], maskedPaths: namespaces.mount ? masked : [],
            lifelineFD: ChildProcess.lifeline != nil ? ChildProcess.lifelineChildFD : nil,
            seccompDenylist: isolation.seccomp)
    }

    /// (Re)creates the replica's folder with its artifact files and a fresh run folder.
    func prepareFolders(dir: String, artifactDir: String, runDir: String, files: [String: String], uid: UInt32?)
        throws(SandboxError)
    {
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        for (path, mode) in [(replicasDirectory, 0o711), (dir, 0o711), (artifactDir, 0o700), (runDir, 0o700)] {
            if mkdir(path, mode_t(mode)) != 0 && errno != EEXIST { throw .system(call: "mkdir(\(path))", errno: errno) }
            _ = chmod(path, mode_t(mode))
        }
        for (name, source) in files.sorted(by: { $0.key < $1.key }) {
            guard ReplicaLaunch.isValidFileName(name) else { throw .invalidSpec("bad artifact file name '\(name)'") }
            let target = artifactDir + "/" + name
            // A hard link shares the cache's read-only inode; copy across file systems.
            if link(source, target) != 0 {
                do {
                    try fm.copyItem(atPath: source, toPath: target)
                } catch {
                    throw .system(call: "copy(\(source))", errno: errno == 0 ? EIO : errno)
                }
            }
            _ = chmod(target, 0o444)
        }
        if let uid {
            // artifact/: readable by the replica's group only, writable by nobody but root.
            guard chown(artifactDir, 0, uid) == 0, chmod(artifactDir, 0o550) == 0, chown(runDir, uid, uid) == 0 else {
                throw .system(call: "chown(\(dir))", errno: errno)
            }
        } else {
            _ = chmod(artifactDir, 0o555)
        }
    }

    /// Removes the replica's folder and gives its uid back (after its final stop).
    public func removeFolder(of id: String) {
        uids.release(id)
        guard ReplicaLaunch.isValidID(id) else { return }
        try? FileManager.default.removeItem(atPath: directory(of: id))
    }
}
