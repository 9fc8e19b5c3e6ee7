import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Hands out the dedicated uids of replicas, unique across every agent on the host: a uid is
/// taken by holding an exclusive `flock` on `<lockDirectory>/<uid>.lock`, released when the
/// replica is gone or the agent dies; uids any running process already has are skipped.
/// A replica keeps its uid across restarts.
public final class DedicatedUIDs: Sendable {
    public let lockDirectory: String
    public let range: ClosedRange<UInt32>
    private let held = Mutex<[String: (uid: UInt32, fd: Int32)]>([:])

    /// Host-wide default: /run/plinth/uids, uids 61000–64999.
    public init(lockDirectory: String = "/run/plinth/uids", range: ClosedRange<UInt32> = 61000...64999) {
        self.lockDirectory = lockDirectory
        self.range = range
    }

    /// The uid of replica `id`, taking a free one when it has none yet.
    public func acquire(for id: String) throws(SandboxError) -> UInt32 {
        if let existing = held.withLock({ $0[id]?.uid }) { return existing }
        try makeDirectories()
        // Also skip uids some process already runs as (an older agent, or anyone else).
        let taken = Set(held.withLock { $0.values.map(\.uid) }).union(DedicatedUIDs.uidsInUse())
        for uid in range where !taken.contains(uid) {
            let fd = open("\(lockDirectory)/\(uid).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            if fd < 0 { throw .system(call: "open(\(lockDirectory)/\(uid).lock)", errno: errno) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                held.withLock { $0[id] = (uid, fd) }
                return uid
            }
            close(fd)
        }
        throw .invalidSpec("no free dedicated uid in \(range)")
    }

    /// Gives replica `id`'s uid back.
    public func release(_ id: String) {
        guard let entry = held.withLock({ $0.removeValue(forKey: id) }) else { return }
        close(entry.fd)  // drops the flock
    }

    /// The owners of every /proc/<pid> (a process's /proc directory belongs to its euid).
    static func uidsInUse() -> Set<UInt32> {
        var result = Set<UInt32>()
        guard let dir = opendir("/proc") else { return result }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let first = name.utf8.first, first >= 0x30, first <= 0x39 else { continue }
            var info = stat()
            if stat("/proc/" + name, &info) == 0 { result.insert(info.st_uid) }
        }
        return result
    }

    private func makeDirectories() throws(SandboxError) {
        var current = ""
        for part in lockDirectory.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST { throw .system(call: "mkdir(\(current))", errno: errno) }
        }
    }
}
