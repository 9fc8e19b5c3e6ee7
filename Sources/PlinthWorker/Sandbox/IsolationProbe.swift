import Foundation
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// Finds out, once at agent start, which isolation this host allows: root or not, which
/// cgroup hierarchy is writable, and whether the launcher can really create the namespaces
/// (it tries: a sandboxed `/bin/true`, because kernel knobs, seccomp profiles and container
/// runtimes all get a say).
public enum IsolationProbe {
    /// Detects the isolation level. `launcherPath` is the plinth binary (nil: no namespaces).
    public static func detect(launcherPath: String?, hierarchy: CgroupHierarchy, scratchDirectory: String)
        -> IsolationLevel
    {
        let root = geteuid() == 0
        var level = IsolationLevel.minimal(runsAsRoot: root)
        level.cgroup = hierarchy.mode
        level.cgroupControllers = hierarchy.bases.keys.filter { $0 != "unified" }.sorted()
        if hierarchy.mode == .v2 { level.cgroupControllers = ["cpu", "memory", "pids"] }
        guard let launcherPath, access(launcherPath, X_OK) == 0 else { return level }
        var all = SandboxNamespaces.all
        all.user = !root
        // Seccomp first together with the namespaces, then the namespaces alone.
        for seccomp in [true, false] {
            if tryLaunch(launcherPath, namespaces: all, seccomp: seccomp, scratchDirectory: scratchDirectory) {
                level.userNamespace = !root
                level.pidNamespace = true
                level.mountNamespace = true
                level.networkNamespace = true
                level.seccomp = seccomp
                return level
            }
        }
        level.seccomp = tryLaunch(
            launcherPath, namespaces: SandboxNamespaces(), seccomp: true, scratchDirectory: scratchDirectory)
        return level
    }

    /// Runs `/bin/true` through the launcher with `namespaces` (and the seccomp filter); true
    /// when it exits 0.
    static func tryLaunch(
        _ launcherPath: String, namespaces: SandboxNamespaces, seccomp: Bool, scratchDirectory: String
    ) -> Bool {
        let spec = SandboxSpec(
            executable: "/bin/true", arguments: ["true"], workingDirectory: "/", namespaces: namespaces,
            dieWithParent: true, seccompDenylist: seccomp)
        let specPath = scratchDirectory + "/isolation-probe-\(getpid()).json"
        guard let data = try? JSONEncoder().encode(spec),
            FileManager.default.createFile(atPath: specPath, contents: data, attributes: [.posixPermissions: 0o600])
        else { return false }
        defer { try? FileManager.default.removeItem(atPath: specPath) }
        guard let devNull = Optional(open("/dev/null", O_WRONLY | O_CLOEXEC)), devNull >= 0 else { return false }
        defer { close(devNull) }
        guard
            let pid = try? ChildProcess.spawn(
                path: launcherPath, arguments: [launcherPath, "sandbox-exec", specPath], environment: [],
                outputFD: devNull)
        else { return false }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let status = ChildProcess.poll(pid) { return status == .exited(0) }
            usleep(2000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        return false
    }
}
