#if canImport(Glibc)
    import Glibc
#endif

/// The C strings `execve` needs, built before any fork so the child only makes system calls.
///
/// The memory is deliberately never freed: the process that owns it either execs or exits.
struct PreparedExec {
    let candidates: [UnsafeMutablePointer<CChar>]
    let argv: [UnsafeMutablePointer<CChar>?]
    let envp: [UnsafeMutablePointer<CChar>?]
    let workingDirectory: UnsafeMutablePointer<CChar>

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    init(_ spec: SandboxSpec) {
        let paths: [String]
        if spec.executable.contains("/") {
            paths = [spec.executable]
        } else {
            let search = spec.environment["PATH"] ?? PreparedExec.defaultPath
            paths = search.split(separator: ":").filter { $0.hasPrefix("/") }.map { "\($0)/\(spec.executable)" }
        }
        candidates = paths.map { strdup($0)! }
        argv = spec.arguments.map { strdup($0) } + [nil]
        envp = spec.environment.keys.sorted().map { strdup("\($0)=\(spec.environment[$0] ?? "")") } + [nil]
        workingDirectory = strdup(spec.workingDirectory)!
    }
}
