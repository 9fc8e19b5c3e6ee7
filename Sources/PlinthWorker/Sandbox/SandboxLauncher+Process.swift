import CLinux
import PlinthCore

#if canImport(Glibc)
    import Glibc
#endif

/// Forking, the PID-namespace init and the final exec. Runs in the single-threaded launcher.
extension SandboxLauncher {
    /// Signals the launcher and the init pass on to the replica.
    static let forwardedSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    static func blockedSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in forwardedSignals + [SIGCHLD] { sigaddset(&set, signal) }
        return set
    }

    /// Forks the PID-namespace init, waits for it, and mirrors the replica's wait status.
    static func runWithInit(_ spec: SandboxSpec, _ prepared: PreparedExec) -> Int32 {
        var set = blockedSet()
        sigprocmask(SIG_BLOCK, &set, nil)
        var statusPipe: [Int32] = [0, 0]
        guard pipe(&statusPipe) == 0 else {
            report("pipe failed: errno \(errno)")
            return setupFailedStatus
        }
        let child = plinth_fork()
        if child < 0 {
            report("fork failed: errno \(errno)")
            return setupFailedStatus
        }
        if child == 0 {
            close(statusPipe[0])
            namespaceInit(spec, prepared, statusFD: statusPipe[1])
        }
        close(statusPipe[1])
        while true {
            var info = siginfo_t()
            let signal = sigwaitinfo(&set, &info)
            if signal < 0 { continue }  // EINTR
            if signal != SIGCHLD {
                kill(child, signal)
                continue
            }
            var status: Int32 = 0
            let reaped = waitpid(child, &status, WNOHANG)
            guard reaped == child else { continue }
            var replicaStatus: Int32 = 0
            let got = read(statusPipe[0], &replicaStatus, MemoryLayout<Int32>.size)
            return mirror(got == MemoryLayout<Int32>.size ? replicaStatus : status)
        }
    }

    /// Exits like a process with wait status `status` did: same code, or the same fatal signal.
    static func mirror(_ status: Int32) -> Int32 {
        if plinth_wifsignaled(status) != 0 {
            let signal = plinth_wtermsig(status)
            Glibc.signal(signal, SIG_DFL)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, signal)
            sigprocmask(SIG_UNBLOCK, &set, nil)
            kill(getpid(), signal)
            return 128 + signal
        }
        return plinth_wexitstatus(status)
    }

    /// PID 1 of the replica's namespace: joins the cgroups, mounts /proc, forks the replica,
    /// forwards signals, reaps orphans, and writes the replica's wait status to `statusFD`.
    static func namespaceInit(_ spec: SandboxSpec, _ prepared: PreparedExec, statusFD: Int32) -> Never {
        if spec.dieWithParent { _ = plinth_set_pdeathsig(SIGKILL) }  // cleared by fork
        do {
            try joinCgroups(spec)
            if spec.namespaces.mount {
                try syscallChecked(
                    "mount(/proc)",
                    {
                        mount("proc", "/proc", "proc", plinth_ms_nosuid | plinth_ms_nodev | plinth_ms_noexec, nil)
                    })
            }
            if spec.namespaces.uts {
                let name = "replica"
                _ = sethostname(name, name.utf8.count)
            }
        } catch {
            report("\(error)")
            _exit(setupFailedStatus)
        }
        let replica = plinth_fork()
        if replica < 0 {
            report("fork failed: errno \(errno)")
            _exit(setupFailedStatus)
        }
        if replica == 0 {
            close(statusFD)
            execReplica(spec, prepared)
        }
        // After the replica, which stays PID 2; if the agent is already gone it dies at once.
        let watcher = spec.lifelineFD.map { forkLifelineWatcher($0, closing: [statusFD], killGroup: false) } ?? -1
        var set = blockedSet()
        while true {
            var info = siginfo_t()
            let signal = sigwaitinfo(&set, &info)
            if signal < 0 { continue }
            if signal != SIGCHLD {
                kill(replica, signal)
                continue
            }
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, WNOHANG)
                if pid <= 0 { break }
                if pid == replica {
                    var copy = status
                    _ = write(statusFD, &copy, MemoryLayout<Int32>.size)
                    // Exiting tears the namespace down: the kernel kills whatever is left in it.
                    _exit(0)
                }
                if pid == watcher {
                    // The agent is gone: the replica goes too (with the whole namespace).
                    kill(replica, SIGKILL)
                    var copy: Int32 = SIGKILL
                    _ = write(statusFD, &copy, MemoryLayout<Int32>.size)
                    _exit(0)
                }
            }
        }
    }

    /// Forks a child that blocks reading the agent's lifeline and exits at end of file (the agent
    /// died: every copy of the write end is closed). With `killGroup` it first kills the
    /// launcher's process group, which holds the replica (used without a PID namespace, where
    /// no init notices its exit); it also dies with its parent. Returns the child's pid (-1
    /// when fork failed; the parent-death signal remains).
    static func forkLifelineWatcher(_ fd: Int32, closing: [Int32], killGroup: Bool) -> pid_t {
        let parent = getpid()
        let group = getpgrp()
        let child = plinth_fork()
        if child != 0 { return child }
        _ = plinth_set_pdeathsig(SIGKILL)
        if getppid() != parent { _exit(0) }  // the parent died before the line above
        for other in closing { close(other) }
        var set = sigset_t()
        sigfillset(&set)
        sigdelset(&set, SIGKILL)
        sigprocmask(SIG_SETMASK, &set, nil)
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n > 0 || (n < 0 && errno == EINTR) { continue }
            break
        }
        if killGroup && group > 1 { kill(-group, SIGKILL) }
        _exit(0)
    }

    /// Drops privileges and execs the replica command. Never returns.
    static func execReplica(_ spec: SandboxSpec, _ prepared: PreparedExec) -> Never {
        var empty = sigset_t()
        sigemptyset(&empty)
        for signal in Int32(1)...Int32(31) where signal != SIGKILL && signal != SIGSTOP {
            Glibc.signal(signal, SIG_DFL)
        }
        sigprocmask(SIG_SETMASK, &empty, nil)
        if let uid = spec.uid, let gid = spec.gid, geteuid() == 0 {
            guard plinth_setgroups_none() == 0, setgid(gid) == 0, setuid(uid) == 0 else {
                report("dropping to uid \(uid) failed: errno \(errno)")
                _exit(setupFailedStatus)
            }
        }
        guard plinth_set_no_new_privs() == 0 else {
            report("no_new_privs failed: errno \(errno)")
            _exit(setupFailedStatus)
        }
        if spec.seccompDenylist && plinth_install_seccomp_denylist() != 0 {
            report("seccomp failed: errno \(errno)")
            _exit(setupFailedStatus)
        }
        guard chdir(prepared.workingDirectory) == 0 else {
            report("chdir(\(spec.workingDirectory)) failed: errno \(errno)")
            _exit(setupFailedStatus)
        }
        plinth_close_from(3)
        var lastError: Int32 = ENOENT
        for candidate in prepared.candidates {
            prepared.argv.withUnsafeBufferPointer { argv in
                prepared.envp.withUnsafeBufferPointer { envp in
                    _ = execve(candidate, argv.baseAddress!, envp.baseAddress!)
                }
            }
            let code = errno
            if code != ENOENT && code != ENOTDIR { lastError = code }
        }
        report("exec \(spec.executable) failed: \(String(cString: strerror(lastError)))")
        _exit(lastError == ENOENT ? notFoundStatus : execFailedStatus)
    }
}
