import Foundation

/// Everything the sandbox launcher (`plinth sandbox-exec SPEC_FILE`) needs to start one replica.
///
/// The supervisor writes it as JSON to a 0600 file outside the replica's reach; the launcher
/// reads it, applies the isolation in order (session, rlimits, cgroup, namespaces, mounts,
/// privileges) and execs `executable`. Paths are absolute.
public struct SandboxSpec: Codable, Sendable, Equatable {
    /// Absolute path of the program to exec, or a bare name searched in `environment["PATH"]`.
    public var executable: String
    /// Full argv, including argv[0].
    public var arguments: [String]
    /// The replica's whole environment; nothing from the agent leaks through.
    public var environment: [String: String]
    public var workingDirectory: String
    /// Unprivileged uid/gid to drop to (only when the launcher runs as root).
    public var uid: UInt32?
    public var gid: UInt32?
    public var namespaces: SandboxNamespaces
    public var limits: SandboxRlimits
    /// `cgroup.procs` files the replica joins (one per v1 controller, one for v2).
    public var cgroupProcsFiles: [String]
    /// Directories the replica may read but not write (its artifact folder).
    public var readOnlyPaths: [String]
    /// Directories the replica may write (its socket and scratch folder).
    public var writablePaths: [String]
    /// Directories covered with an empty read-only tmpfs inside the replica's mount namespace
    /// (the agent's data directory), so it cannot see its neighbours. Read-only and writable
    /// paths below them are bound back in.
    public var hiddenPaths: [String]
    /// Files hidden by binding /dev/null over them (GPU device nodes not assigned to it).
    public var maskedPaths: [String]
    /// Kill the replica when the supervising process dies.
    public var dieWithParent: Bool
    /// A descriptor the launcher inherits: the read end of a pipe whose only write end the agent
    /// holds. End of file on it means the agent is gone, and the replica is killed. Unlike the
    /// parent-death signal it cannot be lost to a race at start or a change of credentials.
    public var lifelineFD: Int32?
    /// Deny (EPERM) the system calls a model server never needs: namespaces, mounts, ptrace,
    /// modules, keyrings, BPF, clock setting (see CLinux/process.h).
    public var seccompDenylist: Bool

    public init(
        executable: String, arguments: [String], environment: [String: String] = [:],
        workingDirectory: String, uid: UInt32? = nil, gid: UInt32? = nil,
        namespaces: SandboxNamespaces = SandboxNamespaces(), limits: SandboxRlimits = SandboxRlimits(),
        cgroupProcsFiles: [String] = [], readOnlyPaths: [String] = [], writablePaths: [String] = [],
        hiddenPaths: [String] = [], maskedPaths: [String] = [], dieWithParent: Bool = true,
        lifelineFD: Int32? = nil, seccompDenylist: Bool = true
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.gid = gid
        self.namespaces = namespaces
        self.limits = limits
        self.cgroupProcsFiles = cgroupProcsFiles
        self.readOnlyPaths = readOnlyPaths
        self.writablePaths = writablePaths
        self.hiddenPaths = hiddenPaths
        self.maskedPaths = maskedPaths
        self.dieWithParent = dieWithParent
        self.lifelineFD = lifelineFD
        self.seccompDenylist = seccompDenylist
    }

    /// Checks the invariants the launcher relies on; returns a message per problem.
    public func validate() -> [String] {
        var problems: [String] = []
        if executable.isEmpty { problems.append("executable is empty") }
        if arguments.isEmpty { problems.append("arguments must include argv[0]") }
        if !workingDirectory.hasPrefix("/") { problems.append("workingDirectory must be absolute") }
        for path in readOnlyPaths + writablePaths + hiddenPaths + maskedPaths + cgroupProcsFiles
        where !path.hasPrefix("/") {
            problems.append("path '\(path)' must be absolute")
        }
        for path in readOnlyPaths + writablePaths + hiddenPaths + [workingDirectory]
        where path.split(separator: "/").contains("..") {
            problems.append("path '\(path)' must not contain '..'")
        }
        for (key, value) in environment
        where key.isEmpty || key.contains("=") || key.contains("\0") || value.contains("\0") {
            problems.append("environment variable '\(key)' is malformed")
        }
        if arguments.contains(where: { $0.contains("\0") }) { problems.append("an argument contains NUL") }
        if !(hiddenPaths.isEmpty && maskedPaths.isEmpty) && !namespaces.mount {
            problems.append("hiddenPaths and maskedPaths need a mount namespace")
        }
        if namespaces.pid && !namespaces.mount {
            problems.append("a PID namespace needs a mount namespace (for /proc)")
        }
        if (uid == nil) != (gid == nil) { problems.append("uid and gid go together") }
        if let fd = lifelineFD, fd < 3 { problems.append("lifelineFD must be above 2") }
        return problems
    }
}

/// Which namespaces the replica gets. `user` is used only when the launcher is not root
/// (a root launcher drops to a dedicated uid instead).
public struct SandboxNamespaces: Codable, Sendable, Equatable {
    public var user: Bool
    public var pid: Bool
    public var mount: Bool
    public var network: Bool
    public var ipc: Bool
    public var uts: Bool

    public init(
        user: Bool = false, pid: Bool = false, mount: Bool = false, network: Bool = false, ipc: Bool = false,
        uts: Bool = false
    ) {
        self.user = user
        self.pid = pid
        self.mount = mount
        self.network = network
        self.ipc = ipc
        self.uts = uts
    }

    /// All of them.
    public static let all = SandboxNamespaces(user: true, pid: true, mount: true, network: true, ipc: true, uts: true)
    public var any: Bool { user || pid || mount || network || ipc || uts }
}

/// Per-process resource limits (setrlimit). `nil` leaves the inherited value.
public struct SandboxRlimits: Codable, Sendable, Equatable {
    public var addressSpaceBytes: UInt64?
    public var openFiles: UInt64?
    /// RLIMIT_NPROC counts every process of the real uid, so it is applied only with a dedicated uid.
    public var processes: UInt64?
    public var coreBytes: UInt64?
    public var cpuSeconds: UInt64?
    public var fileSizeBytes: UInt64?

    public init(
        addressSpaceBytes: UInt64? = nil, openFiles: UInt64? = 1024, processes: UInt64? = nil, coreBytes: UInt64? = 0,
        cpuSeconds: UInt64? = nil, fileSizeBytes: UInt64? = nil
    ) {
        self.addressSpaceBytes = addressSpaceBytes
        self.openFiles = openFiles
        self.processes = processes
        self.coreBytes = coreBytes
        self.cpuSeconds = cpuSeconds
        self.fileSizeBytes = fileSizeBytes
    }
}
