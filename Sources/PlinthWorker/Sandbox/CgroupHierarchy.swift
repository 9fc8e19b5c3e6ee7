import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where this agent may create replica cgroups: found from /proc/self/mountinfo and
/// /proc/self/cgroup, below the agent's own cgroup (so limits nest under whatever the host
/// gave the agent).
public struct CgroupHierarchy: Sendable, Equatable {
    public let mode: CgroupMode
    /// v1: controller name → directory replica cgroups go under. v2: "unified" → that directory.
    public let bases: [String: String]

    /// The v1 controllers Plinth uses.
    public static let v1Controllers = ["memory", "cpu", "pids"]

    public init(mode: CgroupMode, bases: [String: String]) {
        self.mode = mode
        self.bases = bases
    }

    public static let unavailable = CgroupHierarchy(mode: .none, bases: [:])

    /// Detects the hierarchy and checks it is writable by creating `<base>/<agentName>`.
    public static func detect(agentName: String = "plinth") -> CgroupHierarchy {
        let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let membership = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        let candidate = plan(mountinfo: mountinfo, procCgroup: membership, agentName: agentName)
        return candidate.prepare() ? candidate : .unavailable
    }

    /// Pure planning from the two proc files (tested with captured samples). Prefers v2 when
    /// its root offers the memory controller, v1 when all three v1 controllers are mounted.
    public static func plan(mountinfo: String, procCgroup: String, agentName: String) -> CgroupHierarchy {
        var v1Mounts: [String: String] = [:]
        var v2Mount: String?
        for line in mountinfo.split(separator: "\n") {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = String(left[4])
            if right[0] == "cgroup2" {
                v2Mount = v2Mount ?? mountPoint
            } else if right[0] == "cgroup" {
                for option in right[2].split(separator: ",")
                where (v1Controllers + ["cpuacct"]).contains(String(option)) {
                    v1Mounts[String(option)] = mountPoint
                }
            }
        }
        var v1Paths: [String: String] = [:]
        var v2Path: String?
        for line in procCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty { v2Path = String(parts[2]) }
            for controller in parts[1].split(separator: ",") { v1Paths[String(controller)] = String(parts[2]) }
        }
        func join(_ mount: String, _ path: String) -> String {
            let trimmed = path == "/" ? "" : path
            return mount + trimmed + "/" + agentName
        }
        // Hybrid hosts keep the controllers on v1 (the v2 mount is then controller-less).
        if v1Controllers.allSatisfy({ v1Mounts[$0] != nil }) {
            var bases: [String: String] = [:]
            // cpuacct is optional: it only feeds the CPU usage report.
            for controller in v1Controllers + ["cpuacct"] where v1Mounts[controller] != nil {
                bases[controller] = join(v1Mounts[controller] ?? "", v1Paths[controller] ?? "/")
            }
            return CgroupHierarchy(mode: .v1, bases: bases)
        }
        if let v2Mount, let v2Path, v1Mounts["memory"] == nil {
            return CgroupHierarchy(mode: .v2, bases: ["unified": join(v2Mount, v2Path)])
        }
        return .unavailable
    }

    /// Creates the agent's base directories (and, for v2, delegates the controllers). False
    /// when the host does not let us.
    func prepare() -> Bool {
        switch mode {
        case .none:
            return false
        case .v1:
            return bases.values.allSatisfy { CgroupHierarchy.makeDirectory($0) }
        case .v2:
            guard let base = bases["unified"] else { return false }
            let parent = (base as NSString).deletingLastPathComponent
            // Controllers must be enabled in the parent's and our subtree_control; the parent
            // may hold processes (the agent) which v2 forbids there, so this can fail: then
            // cgroups are reported unavailable rather than half-working.
            guard CgroupHierarchy.makeDirectory(base) else { return false }
            for directory in [parent, base] {
                guard (try? writeSmallFile(directory + "/cgroup.subtree_control", "+memory +cpu +pids")) != nil else {
                    return false
                }
            }
            return true
        }
    }

    /// Kills and removes replica cgroups left by an earlier agent process (its replicas died
    /// with it, but a process that escaped its PID namespace would not have). Returns how many.
    @discardableResult
    public func removeStaleReplicaGroups() -> Int {
        var names = Set<String>()
        for base in bases.values {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
            where name.hasPrefix("replica-") {
                names.insert(name)
            }
        }
        var directories: [String: [String: String]] = [:]
        for name in names {
            for (controller, base) in bases { directories[name, default: [:]][controller] = base + "/" + name }
        }
        for (_, dirs) in directories {
            ReplicaCgroup(mode: mode, directories: dirs.filter { FileManager.default.fileExists(atPath: $0.value) })
                .remove()
        }
        return names.count
    }

    static func makeDirectory(_ path: String) -> Bool {
        if mkdir(path, 0o755) == 0 || errno == EEXIST {
            return access(path + "/cgroup.procs", W_OK) == 0
        }
        return false
    }
}
