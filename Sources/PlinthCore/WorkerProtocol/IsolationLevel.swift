/// The isolation a worker node can give replicas, detected once when the agent starts,
/// logged, and reported to the control plane at registration.
public struct IsolationLevel: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The agent runs as root: replicas get a dedicated unprivileged uid each.
    public var runsAsRoot: Bool
    public var dedicatedUsers: Bool
    public var userNamespace: Bool
    public var pidNamespace: Bool
    public var mountNamespace: Bool
    public var networkNamespace: Bool
    public var cgroup: CgroupMode
    /// Controllers Plinth drives in that hierarchy (memory, cpu, pids, ...).
    public var cgroupControllers: [String]
    /// rlimits (address space, open files, core size 0, processes) are always applied.
    public var rlimits: Bool
    public var noNewPrivileges: Bool
    /// A seccomp filter denies namespace, mount, ptrace, module, keyring and BPF system calls.
    public var seccomp: Bool

    public init(
        runsAsRoot: Bool, dedicatedUsers: Bool, userNamespace: Bool, pidNamespace: Bool, mountNamespace: Bool,
        networkNamespace: Bool, cgroup: CgroupMode, cgroupControllers: [String], rlimits: Bool = true,
        noNewPrivileges: Bool = true, seccomp: Bool = false
    ) {
        self.runsAsRoot = runsAsRoot
        self.dedicatedUsers = dedicatedUsers
        self.userNamespace = userNamespace
        self.pidNamespace = pidNamespace
        self.mountNamespace = mountNamespace
        self.networkNamespace = networkNamespace
        self.cgroup = cgroup
        self.cgroupControllers = cgroupControllers
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.seccomp = seccomp
    }

    /// No namespaces, no cgroups: only rlimits and a separate session.
    public static func minimal(runsAsRoot: Bool) -> IsolationLevel {
        IsolationLevel(
            runsAsRoot: runsAsRoot, dedicatedUsers: runsAsRoot, userNamespace: false, pidNamespace: false,
            mountNamespace: false, networkNamespace: false, cgroup: .none, cgroupControllers: [])
    }

    /// "full" when every layer is there, otherwise "partial" or "minimal".
    public var grade: String {
        let namespaces = pidNamespace && mountNamespace && networkNamespace
        let identity = dedicatedUsers || userNamespace
        if namespaces && identity && cgroup != .none { return "full" }
        if namespaces || cgroup != .none || dedicatedUsers { return "partial" }
        return "minimal"
    }

    public var description: String {
        var parts: [String] = []
        if dedicatedUsers { parts.append("dedicated-uid") }
        if userNamespace { parts.append("userns") }
        if pidNamespace { parts.append("pidns") }
        if mountNamespace { parts.append("mountns") }
        if networkNamespace { parts.append("netns") }
        parts.append(
            "cgroup=\(cgroup.rawValue)"
                + (cgroupControllers.isEmpty ? "" : "(\(cgroupControllers.joined(separator: ",")))"))
        if rlimits { parts.append("rlimits") }
        if noNewPrivileges { parts.append("no_new_privs") }
        if seccomp { parts.append("seccomp") }
        return "\(grade): " + parts.joined(separator: " ")
    }
}
