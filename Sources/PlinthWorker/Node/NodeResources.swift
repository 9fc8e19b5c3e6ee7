import Foundation
import PlinthCore

/// CPU, memory and load of the node, read from /proc (and the agent's own cgroup limit,
/// which caps what replicas can really get).
public enum NodeResources {
    /// What the node offers to replicas.
    public static func capacity(gpus: [GPUDevice]) -> NodeCapacity {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        var memory = ProcessInfo.processInfo.physicalMemory
        if let limit = ownCgroupMemoryLimit(), limit > 0, limit < memory { memory = limit }
        return NodeCapacity(cpuMillicores: cpus * 1000, memoryBytes: memory, gpus: gpus)
    }

    /// Memory in use and the 1-minute load average.
    public static func usage() -> NodeUsage {
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let total = meminfoKiB("MemTotal", meminfo)
        let available = meminfoKiB("MemAvailable", meminfo)
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.flatMap
        { Double($0) }
        return NodeUsage(memoryBytesUsed: total > available ? (total - available) * 1024 : 0, loadAverage1m: load ?? 0)
    }

    /// A "Name:   1234 kB" value from /proc/meminfo, in KiB.
    public static func meminfoKiB(_ name: String, _ text: String) -> UInt64 {
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let value = UInt64(parts[1]) { return value }
        }
        return 0
    }

    static func ownCgroupMemoryLimit() -> UInt64? {
        let membership = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        for line in membership.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = parts[2] == "/" ? "" : String(parts[2])
            let file: String
            if parts[1].split(separator: ",").contains("memory") {
                file = "/sys/fs/cgroup/memory\(path)/memory.limit_in_bytes"
            } else if parts[0] == "0" {
                file = "/sys/fs/cgroup\(path)/memory.max"
            } else {
                continue
            }
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
                let value = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return value
            }
        }
        return nil
    }
}
