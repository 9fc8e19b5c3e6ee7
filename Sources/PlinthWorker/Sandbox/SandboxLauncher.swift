import CLinux
import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// The replica launcher behind the hidden subcommand `plinth sandbox-exec SPEC_FILE`.
///
/// The supervisor spawns it (posix_spawn of the plinth binary, so no fork happens in the
/// multithreaded agent). Still single-threaded, it applies, in order: a new session, the
/// parent-death signal, rlimits, `unshare` of the requested namespaces (+ uid/gid maps when
/// not root), the mount layout, then — with a PID namespace — forks a tiny init (PID 1) that
/// joins the cgroups, mounts a fresh /proc, forks the replica (PID 2), forwards signals to it
/// and reports its wait status back. The replica drops to the dedicated uid, sets
/// no_new_privs, closes inherited descriptors and execs. The launcher's own exit mirrors the
/// replica's: same exit code, or death by the same signal.
public enum SandboxLauncher {
    /// Exit status when the sandbox could not be set up (the message is on stderr).
    public static let setupFailedStatus: Int32 = 125
    /// Exit status when the command exists but could not be executed.
    public static let execFailedStatus: Int32 = 126
    /// Exit status when the command was not found.
    public static let notFoundStatus: Int32 = 127
    /// The replica's uid and gid inside its user namespace (non-root agents).
    public static let namespaceID = 1000

    /// Entry point of `plinth sandbox-exec`. `arguments` are the words after the subcommand:
    /// exactly one, the path of the JSON `SandboxSpec`. Returns only on failure or after the
    /// replica exited normally; a replica killed by a signal kills the launcher by the same signal.
    public static func main(arguments: [String]) -> Int32 {
        guard arguments.count == 1, let path = arguments.first, !path.hasPrefix("-") else {
            report("usage: plinth sandbox-exec SPEC_FILE")
            return 2
        }
        let spec: SandboxSpec
        do {
            spec = try loadSpec(path: path)
        } catch {
            report("\(error)")
            return setupFailedStatus
        }
        return run(spec)
    }

    /// Reads and validates a spec file.
    public static func loadSpec(path: String) throws(SandboxError) -> SandboxSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidSpec("cannot read \(path)")
        }
        return try decodeSpec(data)
    }

    /// Decodes and validates a spec.
    public static func decodeSpec(_ data: Data) throws(SandboxError) -> SandboxSpec {
        let spec: SandboxSpec
        do {
            spec = try JSONDecoder().decode(SandboxSpec.self, from: data)
        } catch {
            throw .invalidSpec("not a sandbox spec: \(error)")
        }
        let problems = spec.validate()
        guard problems.isEmpty else { throw .invalidSpec(problems.joined(separator: "; ")) }
        return spec
    }

    /// The unshare(2) flags a spec asks for, given whether the launcher is root.
    public static func unshareFlags(for spec: SandboxSpec, isRoot: Bool) -> Int32 {
        var flags: Int32 = 0
        let ns = spec.namespaces
        if ns.user && !isRoot { flags |= plinth_clone_newuser }
        if ns.mount { flags |= plinth_clone_newns }
        if ns.pid { flags |= plinth_clone_newpid }
        if ns.network { flags |= plinth_clone_newnet }
        if ns.ipc { flags |= plinth_clone_newipc }
        if ns.uts { flags |= plinth_clone_newuts }
        return flags
    }

    static func run(_ spec: SandboxSpec) -> Int32 {
        let prepared = PreparedExec(spec)
        _ = setsid()  // fails harmlessly when posix_spawn already made us a session leader
        if spec.dieWithParent {
            _ = plinth_set_pdeathsig(SIGKILL)
        }
        if let fd = spec.lifelineFD, fcntl(fd, F_GETFD) < 0 {
            report("lifeline descriptor \(fd) is not open")
            return setupFailedStatus
        }
        let isRoot = geteuid() == 0
        let uid = geteuid()
        let gid = getegid()
        do {
            try applyRlimits(spec.limits, dedicatedUID: isRoot && spec.uid != nil)
            let flags = unshareFlags(for: spec, isRoot: isRoot)
            if flags != 0 {
                try syscallChecked("unshare", { unshare(flags) })
            }
            if flags & plinth_clone_newuser != 0 {
                // Not uid 0 inside: the capabilities the namespace grants (needed for the
                // mounts below) are then dropped at exec, so the replica cannot unmount the
                // covers that hide its neighbours.
                try writeSmallFile("/proc/self/setgroups", "deny")
                try writeSmallFile("/proc/self/uid_map", "\(namespaceID) \(uid) 1\n")
                try writeSmallFile("/proc/self/gid_map", "\(namespaceID) \(gid) 1\n")
            }
            if spec.namespaces.mount {
                try MountLayout(spec: spec).apply()
            }
        } catch {
            report("\(error)")
            return setupFailedStatus
        }
        if spec.namespaces.pid {
            return runWithInit(spec, prepared)
        }
        if let fd = spec.lifelineFD {
            // No init to notice the agent's death: a watcher child kills this process group
            // (the replica, once this process execs it) when the lifeline closes.
            _ = forkLifelineWatcher(fd, closing: [], killGroup: true)
        }
        do {
            try joinCgroups(spec)
        } catch {
            report("\(error)")
            return setupFailedStatus
        }
        execReplica(spec, prepared)
    }

    static func applyRlimits(_ limits: SandboxRlimits, dedicatedUID: Bool) throws(SandboxError) {
        func set(_ resource: Int32, _ value: UInt64?, _ name: String) throws(SandboxError) {
            guard let value else { return }
            try syscallChecked("setrlimit(\(name))", { plinth_setrlimit(resource, value, value) })
        }
        try set(plinth_rlimit_core, limits.coreBytes, "core")
        try set(plinth_rlimit_nofile, limits.openFiles, "nofile")
        try set(plinth_rlimit_as, limits.addressSpaceBytes, "as")
        try set(plinth_rlimit_cpu, limits.cpuSeconds, "cpu")
        try set(plinth_rlimit_fsize, limits.fileSizeBytes, "fsize")
        if dedicatedUID {
            try set(plinth_rlimit_nproc, limits.processes, "nproc")
        }
    }

    static func joinCgroups(_ spec: SandboxSpec) throws(SandboxError) {
        // "0" means the writing process; inside a PID namespace getpid() would say 1.
        for file in spec.cgroupProcsFiles {
            try writeSmallFile(file, "0")
        }
    }

    static func report(_ message: String) {
        Logger.write("plinth sandbox-exec: \(message)\n", fd: 2)
    }
}
