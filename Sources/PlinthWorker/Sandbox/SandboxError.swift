#if canImport(Glibc)
    import Glibc
#endif

/// Why the sandbox could not be set up or a replica process could not be started.
public enum SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The launch spec is unreadable or breaks an invariant.
    case invalidSpec(String)
    /// A system call failed; `errno` is the raw value.
    case system(call: String, errno: Int32)
    /// A cgroup could not be created or configured.
    case cgroup(String)

    public var description: String {
        switch self {
        case .invalidSpec(let message): "invalid sandbox spec: \(message)"
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .cgroup(let message): "cgroup: \(message)"
        }
    }
}

/// The one door to the OS for the sandbox: retries on EINTR, throws the errno otherwise.
@discardableResult
func syscallChecked(_ name: @autoclosure () -> String, _ body: () -> Int32) throws(SandboxError) -> Int32 {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw .system(call: name(), errno: code)
    }
}

/// Writes `text` to `path` with plain open/write/close (no Foundation: also used after fork).
func writeSmallFile(_ path: String, _ text: String) throws(SandboxError) {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    if fd < 0 { throw .system(call: "open(\(path))", errno: errno) }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    let count = bytes.count
    let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, count) }
    if written != count { throw .system(call: "write(\(path))", errno: written < 0 ? errno : EIO) }
}
