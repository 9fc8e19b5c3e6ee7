import CLinux
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// posix_spawn with the agent's defaults: new session, default signal dispositions, an empty
/// signal mask, stdin from /dev/null and stdout+stderr into `outputFD`. No fork runs in the
/// (multithreaded) agent; the spawned program is the sandbox launcher.
enum ChildProcess {
    /// `lifeline`: a descriptor the child gets as fd 3 (`lifelineChildFD`).
    static func spawn(
        path: String, arguments: [String], environment: [String], outputFD: Int32, lifeline: Int32? = nil
    ) throws(SandboxError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 2)
        if let lifeline { posix_spawn_file_actions_adddup2(&actions, lifeline, lifelineChildFD) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(
            &attributes, plinth_posix_spawn_setsid | plinth_posix_spawn_setsigmask | plinth_posix_spawn_setsigdef)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envBuffer in
                posix_spawn(&pid, path, &actions, &attributes, argvBuffer.baseAddress!, envBuffer.baseAddress!)
            }
        }
        if result != 0 { throw .system(call: "posix_spawn(\(path))", errno: result) }
        return pid
    }

    /// Where a launcher finds the lifeline.
    static let lifelineChildFD: Int32 = 3

    /// The agent's lifeline, made once per process: launchers inherit the read end; the write
    /// end never leaves this process (close-on-exec), so it closes exactly when the agent dies.
    /// nil when the pipe could not be made (the parent-death signal still applies).
    static let lifeline: (read: Int32, write: Int32)? = {
        var fds: [Int32] = [0, 0]
        guard pipe2(&fds, plinth_o_cloexec) == 0 else { return nil }
        return (fds[0], fds[1])
    }()

    /// A pipe whose read end is non-blocking; both ends close on exec (the child gets dup2 copies).
    static func outputPipe() throws(SandboxError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe2(&fds, plinth_o_cloexec) == 0 else { throw .system(call: "pipe2", errno: errno) }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | plinth_o_nonblock)
        return (fds[0], fds[1])
    }

    /// Non-blocking wait: the wait status once the child has exited, nil while it runs.
    static func poll(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return ExitStatus(waitStatus: status) }
            if result < 0 && errno == EINTR { continue }
            // ECHILD: someone else reaped it; it is gone with an unknown status.
            if result < 0 { return .unknown }
            return nil
        }
    }
}
