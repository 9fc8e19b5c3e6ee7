import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// One replica's cgroup (a directory per v1 controller, or one v2 directory): created with
/// its limits before the replica starts, read for OOM kills and usage, removed after it exits.
public struct ReplicaCgroup: Sendable, Equatable {
    public let mode: CgroupMode
    /// controller ("memory", "cpu", "pids" or "unified") → directory.
    public let directories: [String: String]

    /// CFS period used for CPU quotas (100 ms, the kernel default).
    static let cpuPeriodMicros = 100_000

    /// Creates `<base>/<name>` in every hierarchy and writes the limits.
    public static func create(in hierarchy: CgroupHierarchy, name: String, limits: CgroupLimits) throws(SandboxError)
        -> ReplicaCgroup
    {
        guard hierarchy.mode != .none else { throw .cgroup("no writable cgroup hierarchy") }
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw .cgroup("bad cgroup name '\(name)'")
        }
        var directories: [String: String] = [:]
        for (controller, base) in hierarchy.bases {
            let path = base + "/" + name
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw .system(call: "mkdir(\(path))", errno: errno)
            }
            directories[controller] = path
        }
        let group = ReplicaCgroup(mode: hierarchy.mode, directories: directories)
        do {
            try group.apply(limits)
        } catch {
            group.remove()
            throw error
        }
        return group
    }

    /// The `cgroup.procs` files a process writes itself into.
    public var procsFiles: [String] { directories.values.sorted().map { $0 + "/cgroup.procs" } }

    func apply(_ limits: CgroupLimits) throws(SandboxError) {
        let period = ReplicaCgroup.cpuPeriodMicros
        switch mode {
        case .none:
            return
        case .v1:
            if let memory = limits.memoryBytes, let dir = directories["memory"] {
                try writeSmallFile(dir + "/memory.limit_in_bytes", String(memory))
                // Count swap too where the kernel accounts it, so the limit cannot be dodged.
                if access(dir + "/memory.memsw.limit_in_bytes", W_OK) == 0 {
                    try? writeSmallFile(dir + "/memory.memsw.limit_in_bytes", String(memory))
                }
            }
            if let cpu = limits.cpuMillicores, let dir = directories["cpu"] {
                try writeSmallFile(dir + "/cpu.cfs_period_us", String(period))
                try writeSmallFile(dir + "/cpu.cfs_quota_us", String(max(1000, cpu * period / 1000)))
            }
            if let pids = limits.pids, let dir = directories["pids"] {
                try writeSmallFile(dir + "/pids.max", String(pids))
            }
        case .v2:
            guard let dir = directories["unified"] else { return }
            if let memory = limits.memoryBytes {
                try writeSmallFile(dir + "/memory.max", String(memory))
                try? writeSmallFile(dir + "/memory.swap.max", "0")
            }
            if let cpu = limits.cpuMillicores {
                try writeSmallFile(dir + "/cpu.max", "\(max(1000, cpu * period / 1000)) \(period)")
            }
            if let pids = limits.pids {
                try writeSmallFile(dir + "/pids.max", String(pids))
            }
        }
    }

    /// How many processes the kernel's OOM killer has killed in this cgroup.
    public func oomKillCount() -> Int {
        let file: String
        switch mode {
        case .none: return 0
        case .v1: file = (directories["memory"] ?? "") + "/memory.oom_control"
        case .v2: file = (directories["unified"] ?? "") + "/memory.events"
        }
        return ReplicaCgroup.counter(named: "oom_kill", in: ReplicaCgroup.read(file) ?? "")
    }

    /// Current memory charge in bytes, nil when unknown.
    public func memoryUsageBytes() -> UInt64? {
        switch mode {
        case .none: return nil
        case .v1:
            return ReplicaCgroup.read((directories["memory"] ?? "") + "/memory.usage_in_bytes").flatMap { UInt64($0) }
        case .v2: return ReplicaCgroup.read((directories["unified"] ?? "") + "/memory.current").flatMap { UInt64($0) }
        }
    }

    /// Total CPU time consumed, in microseconds, nil when unknown.
    public func cpuUsageMicros() -> UInt64? {
        switch mode {
        case .none:
            return nil
        case .v1:
            guard let acct = directories["cpuacct"] else { return nil }
            return ReplicaCgroup.read(acct + "/cpuacct.usage").flatMap { UInt64($0) }.map { $0 / 1000 }
        case .v2:
            let stat = ReplicaCgroup.read((directories["unified"] ?? "") + "/cpu.stat") ?? ""
            return UInt64(ReplicaCgroup.counter(named: "usage_usec", in: stat))
        }
    }

    /// Process ids (host view) still in the cgroup.
    public func pids() -> [pid_t] {
        var result = Set<pid_t>()
        for dir in directories.values {
            for line in (ReplicaCgroup.read(dir + "/cgroup.procs") ?? "").split(separator: "\n") {
                if let pid = pid_t(line) { result.insert(pid) }
            }
        }
        return result.sorted()
    }

    /// SIGKILLs everything left in the cgroup.
    public func killAll() {
        for pid in pids() where pid > 1 { kill(pid, SIGKILL) }
    }

    /// Kills what is left and removes the directories (retrying briefly while the kernel
    /// finishes tearing the processes down).
    public func remove() {
        for attempt in 0..<50 {
            killAll()
            var remaining = 0
            for dir in directories.values where rmdir(dir) != 0 && errno != ENOENT { remaining += 1 }
            if remaining == 0 { return }
            if attempt < 49 { usleep(10_000) }
        }
    }

    /// The number after `name` in a "key value" per-line file (memory.events, oom_control, cpu.stat).
    public static func counter(named name: String, in text: String) -> Int {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == name, let value = Int(parts[1]) { return value }
        }
        return 0
    }

    static func read(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
