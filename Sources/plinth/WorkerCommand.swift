import Foundation
import PlinthCore
import PlinthHTTP
import PlinthWorker

#if canImport(Glibc)
    import Glibc
#endif

/// `plinth worker`: a node agent that registers with a control plane and runs the replicas it is
/// given, until SIGTERM (then it drains them).
enum WorkerCommand {
    static let command = Command(
        name: "worker",
        summary: "Run a worker node: register with --control, run the replicas it assigns, until SIGTERM.",
        usageLine: "worker --control URL --token-file FILE [--data DIR] [--name NODE]",
        flags: [
            FlagSpec("control", help: "control plane URL: http://host:port or unix:/path"),
            FlagSpec("token-file", help: "file (mode 0600) holding the node token; else $PLINTH_NODE_TOKEN"),
            FlagSpec(
                "data", help: "agent data directory: artifact cache and replica folders (default ./plinth-worker)"),
            FlagSpec("name", help: "node name, a DNS label (default: the host name)"),
        ],
        run: { args in try run(args) })

    /// Replica sockets live at <data>/replicas/<id>/run/replica.sock: 107 bytes in all.
    static let maxDataDirectoryPathBytes = 60

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        let control = try args.require("control")
        let token = try readToken(args.value("token-file"))
        let data = URL(fileURLWithPath: args.value("data") ?? "./plinth-worker").standardizedFileURL.path
        guard data.utf8.count <= maxDataDirectoryPathBytes else {
            throw CLIError(
                "data directory path \(data) is \(data.utf8.count) bytes; at most \(maxDataDirectoryPathBytes) fit the replicas' Unix socket paths"
            )
        }
        try DataDirectory.prepare(data)
        let name = args.value("name") ?? defaultNodeName()
        let configuration = WorkerConfiguration(
            controlURL: control, token: token, dataDirectory: data, nodeName: name,
            plinthBinary: ReplicaSandbox.ownExecutable())
        let agent = try WorkerAgent(configuration: configuration)
        TerminationSignals.onTerminate {
            Logger(component: "worker").info("stopping: draining replicas")
            agent.stop()
        }
        agent.run()
        return 0
    }

    /// The token from a file only the owner can read, or from the environment; never a flag value
    /// (argv is visible to every user in /proc).
    static func readToken(_ file: String?) throws -> String {
        if let file {
            var info = stat()
            guard stat(file, &info) == 0 else { throw CLIError("cannot read token file \(file)") }
            guard info.st_mode & 0o077 == 0 else {
                throw CLIError("token file \(file) is readable by others; chmod 600 it")
            }
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("cannot read token file \(file)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw CLIError("token file \(file) is empty") }
            return token
        }
        if let token = ProcessInfo.processInfo.environment["PLINTH_NODE_TOKEN"], !token.isEmpty { return token }
        throw UsageError("a node token is required: --token-file FILE or PLINTH_NODE_TOKEN")
    }

    static func defaultNodeName() -> String {
        let host = ProcessInfo.processInfo.hostName.lowercased().split(separator: ".").first.map(String.init) ?? "node"
        let label = String(host.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(63))
        return label.isEmpty ? "node" : label
    }
}
