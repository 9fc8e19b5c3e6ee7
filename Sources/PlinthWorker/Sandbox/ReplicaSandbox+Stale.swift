import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension ReplicaSandbox {
    /// Kills the launchers (with their process groups, so their replicas) that an earlier agent
    /// on this data directory recorded in `<replicasDirectory>/<id>/launcher.pid` and that
    /// still run — possible only if that agent died in a way its lifeline and parent-death
    /// signal did not cover. A pid counts only while its command line is still
    /// `… sandbox-exec <that folder>/spec.json`, so a recycled pid is never hit. Waits up to
    /// `timeoutSeconds` for them to be gone; returns how many it killed.
    @discardableResult
    public static func killStaleLaunchers(replicasDirectory: String, timeoutSeconds: Double = 5) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: replicasDirectory)) ?? []
        var killed: [pid_t] = []
        for name in names where ReplicaLaunch.isValidID(name) {
            let dir = replicasDirectory + "/" + name
            guard let text = try? String(contentsOfFile: dir + "/" + launcherPIDFile, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
                isLauncher(pid, specPath: dir + "/spec.json")
            else { continue }
            kill(-pid, SIGKILL)  // its session and group: the namespace's init and the replica
            kill(pid, SIGKILL)
            killed.append(pid)
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while killed.contains(where: { isRunning($0) }) && Date() < deadline { usleep(20_000) }
        return killed.count
    }

    /// Whether `pid` runs `sandbox-exec specPath`.
    static func isLauncher(_ pid: pid_t, specPath: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let argv = data.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        return argv.count >= 3 && argv[1] == "sandbox-exec" && argv[2] == specPath
    }

    /// Alive and not a zombie (a zombie is gone for our purpose; its parent reaps it).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }
}
