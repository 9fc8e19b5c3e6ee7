import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// The replica's view of the file system, built inside its fresh mount namespace:
/// everything private, each hidden path covered by an empty tmpfs, the replica's own
/// folders bound back in, the read-only ones remounted read-only.
struct MountLayout {
    let spec: SandboxSpec

    /// Bind-back targets: the replica's own folders, in a stable order.
    var bindPaths: [String] { Array(Set(spec.readOnlyPaths + spec.writablePaths)).sorted() }

    /// Hidden paths that are not already inside another hidden path, shortest first.
    var covers: [String] {
        let sorted = spec.hiddenPaths.map(MountLayout.normalized).sorted { $0.count < $1.count }
        var result: [String] = []
        for path in sorted where !result.contains(where: { MountLayout.isInside(path, $0) }) {
            result.append(path)
        }
        return result
    }

    static func normalized(_ path: String) -> String {
        let parts = path.split(separator: "/").filter { $0 != "." }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether `path` equals `root` or lies below it.
    static func isInside(_ path: String, _ root: String) -> Bool {
        let p = normalized(path)
        let r = normalized(root)
        return r == "/" || p == r || p.hasPrefix(r + "/")
    }

    func apply() throws(SandboxError) {
        try syscallChecked("mount(/, private)", { mount(nil, "/", nil, plinth_ms_rec | plinth_ms_private, nil) })
        // Open the bind sources before anything covers them; bind from /proc/self/fd later.
        var sources: [(path: String, fd: Int32)] = []
        for path in bindPaths where covers.contains(where: { MountLayout.isInside(path, $0) }) {
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { throw .system(call: "open(\(path))", errno: errno) }
            sources.append((path, fd))
        }
        defer { for source in sources { close(source.fd) } }
        for cover in covers {
            try syscallChecked(
                "mount(tmpfs on \(cover))",
                {
                    mount(
                        "tmpfs", cover, "tmpfs", plinth_ms_nosuid | plinth_ms_nodev | plinth_ms_noexec,
                        "mode=0755,size=1m")
                })
        }
        for source in sources {
            try makeDirectories(source.path)
            try syscallChecked(
                "bind(\(source.path))",
                {
                    mount("/proc/self/fd/\(source.fd)", source.path, nil, plinth_ms_bind | plinth_ms_rec, nil)
                })
        }
        for path in spec.readOnlyPaths {
            if !sources.contains(where: { $0.path == path }) {
                try syscallChecked("bind(\(path))", { mount(path, path, nil, plinth_ms_bind | plinth_ms_rec, nil) })
            }
            try remountReadOnly(path)
        }
        for cover in covers {
            try remountReadOnly(cover)
        }
        for path in spec.maskedPaths where access(path, F_OK) == 0 {
            try syscallChecked("mask(\(path))", { mount("/dev/null", path, nil, plinth_ms_bind, nil) })
        }
    }

    /// Remounts a mount point read-only, keeping the flags the kernel locks in a user namespace.
    private func remountReadOnly(_ path: String) throws(SandboxError) {
        var info = statvfs()
        try syscallChecked("statvfs(\(path))", { statvfs(path, &info) })
        var flags = plinth_ms_remount | plinth_ms_bind | plinth_ms_rdonly
        let kept: [(UInt, UInt)] = [
            (plinth_st_nosuid, plinth_ms_nosuid), (plinth_st_nodev, plinth_ms_nodev),
            (plinth_st_noexec, plinth_ms_noexec), (plinth_st_noatime, plinth_ms_noatime),
            (plinth_st_nodiratime, plinth_ms_nodiratime), (plinth_st_relatime, plinth_ms_relatime),
        ]
        for (statFlag, mountFlag) in kept where info.f_flag & statFlag != 0 { flags |= mountFlag }
        try syscallChecked("remount(\(path), ro)", { mount(nil, path, nil, flags, nil) })
    }

    private func makeDirectories(_ path: String) throws(SandboxError) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw .system(call: "mkdir(\(current))", errno: errno)
            }
        }
    }
}
