import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

extension ReplicaSandbox {
    /// The sandbox for this node: detects the cgroup hierarchy (creating
    /// `<agent cgroup>/plinth-<nodeName>-<data dir hash>`) and the isolation level, with replica folders in
    /// `<dataDirectory>/replicas` and the whole data directory hidden from replicas.
    /// `plinthBinary` is the launcher (nil: this executable). Removes replica cgroups and
    /// folders left by an earlier run. Logs the isolation level.
    public static func forNode(
        dataDirectory: String, nodeName: String, plinthBinary: String? = nil, logger: Logger? = nil
    ) throws(SandboxError) -> ReplicaSandbox {
        let binary = plinthBinary ?? ownExecutable()
        for dir in [dataDirectory, dataDirectory + "/replicas"] {
            if mkdir(dir, 0o711) != 0 && errno != EEXIST { throw .system(call: "mkdir(\(dir))", errno: errno) }
        }
        // The data directory is part of the name: two installations on one host (or two test
        // runs) with the same node name must never reap each other's replica cgroups.
        let hierarchy = CgroupHierarchy.detect(agentName: agentCgroupName(nodeName: nodeName, dataDirectory: dataDirectory))
        // Replicas die with the agent, so whatever an earlier run left behind is stale.
        let staleLaunchers = killStaleLaunchers(replicasDirectory: dataDirectory + "/replicas")
        let staleGroups = hierarchy.removeStaleReplicaGroups()
        let staleFolders = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/replicas")) ?? []
        for name in staleFolders { try? FileManager.default.removeItem(atPath: dataDirectory + "/replicas/" + name) }
        if staleLaunchers + staleGroups + staleFolders.count > 0 {
            logger?.info(
                "removed stale replica state",
                [
                    "launchers": .int(staleLaunchers), "cgroups": .int(staleGroups),
                    "folders": .int(staleFolders.count),
                ])
        }
        let isolation = IsolationProbe.detect(
            launcherPath: binary, hierarchy: hierarchy, scratchDirectory: dataDirectory)
        logger?.info("worker isolation", ["node": .string(nodeName), "isolation": .string(isolation.description)])
        return ReplicaSandbox(
            isolation: isolation, hierarchy: hierarchy, launcherPath: binary,
            replicasDirectory: dataDirectory + "/replicas",
            hiddenPaths: [dataDirectory])
    }

    /// The running executable's path (readlink /proc/self/exe).
    public static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "/proc/self/exe" }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `plinth-<node>-<8 hex of the data directory's absolute path>`.
    static func agentCgroupName(nodeName: String, dataDirectory: String) -> String {
        let path = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across runs, unlike Hasher
        for byte in path.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash & 0xffff_ffff, radix: 16)
        let suffix = String(repeating: "0", count: 8 - hex.count) + hex
        return "plinth-" + sanitizedName(nodeName) + "-" + suffix
    }

    /// `name` reduced to [A-Za-z0-9-_], at most 48 characters, for cgroup names.
    static func sanitizedName(_ name: String) -> String {
        let cleaned = String(
            name.unicodeScalars.map {
                CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" ? Character($0) : "_"
            }.prefix(48))
        return cleaned.isEmpty ? "node" : cleaned
    }
}
