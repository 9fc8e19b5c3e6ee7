import PlinthCore

/// What the sandbox needs to start one replica process.
public struct ReplicaLaunch: Sendable, Equatable {
    /// Replica id: [A-Za-z0-9_-], 1–64 characters (it names folders and cgroups).
    public var id: String
    /// argv; argv[0] is an absolute path or a name found in PATH (/usr/local/bin:/usr/bin:/bin).
    public var command: [String]
    /// Extra environment. PLINTH_SOCKET/LISTEN/REPLICA_ID/MODEL_DIR, PATH, HOME, TMPDIR, LANG and the
    /// GPU variables are always set by the sandbox and override these.
    public var environment: [String: String]
    /// Files placed read-only in the replica's folder: name in the folder → path in the cache.
    public var files: [String: String]
    public var limits: InstanceLimits
    public var gpuIndices: [Int]

    public init(
        id: String, command: [String], environment: [String: String] = [:], files: [String: String] = [:],
        limits: InstanceLimits, gpuIndices: [Int] = []
    ) {
        self.id = id
        self.command = command
        self.environment = environment
        self.files = files
        self.limits = limits
        self.gpuIndices = gpuIndices
    }

    /// Whether `id` is safe as a folder and cgroup name.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d
                    || $0 == 0x5f
            }
    }

    /// Whether `name` is safe as a file name inside the replica's folder.
    public static func isValidFileName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name != "." && name != ".." && !name.contains("/")
            && !name.contains("\0")
    }
}
