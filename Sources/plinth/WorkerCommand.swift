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
        usageLine:
            "worker --control URL --token-file FILE [--data DIR] [--name NODE] [--data-listen HOST:PORT [--advertise HOST:PORT]] [--cpus N] [--memory SIZE]",
        flags: [
            FlagSpec("control", help: "control plane URL: http://host:port or unix:/path"),
            FlagSpec("token-file", help: "file (mode 0600) holding the node token; else $PLINTH_NODE_TOKEN"),
            FlagSpec(
                "data", help: "agent data directory: artifact cache and replica folders (default ./plinth-worker)"),
            FlagSpec("name", help: "node name, a DNS label (default: the host name)"),
            FlagSpec(
                "data-listen",
                help:
                    "serve this node's replicas to a gateway on another machine over TCP at HOST:PORT (authenticated forwarder); without it only a gateway on this machine reaches them"
            ),
            FlagSpec("advertise", help: "HOST:PORT the gateway dials for --data-listen (default: the bound address)"),
            FlagSpec("cpus", help: "CPU cores this node offers the scheduler, e.g. 2 or 1.5 (default: all)"),
            FlagSpec("memory", help: "memory this node offers the scheduler: bytes or 512Mi, 4Gi, 2G (default: all)"),
            FlagSpec("access-log", value: false, help: "built-in runtimes log one JSON line per request"),
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
        var dataListen: ListenAddress?
        if let text = args.value("data-listen") {
            guard let parsed = try? ListenAddress.parse(text), case .tcp = parsed else {
                throw UsageError("--data-listen must be HOST:PORT, got '\(text)'")
            }
            dataListen = parsed
        }
        if args.has("advertise") && dataListen == nil { throw UsageError("--advertise needs --data-listen") }
        let cpus = try args.value("cpus").map { text -> Int in
            guard let value = Double(text), value.isFinite, value > 0, value <= 4096 else {
                throw UsageError("--cpus must be a number of cores above 0, got '\(text)'")
            }
            return max(1, Int((value * 1000).rounded()))
        }
        let memory = try args.value("memory").map { text -> UInt64 in
            guard let bytes = parseByteSize(text), bytes >= 64 << 20 else {
                throw UsageError(
                    "--memory must be a size of at least 64Mi (bytes, or with Ki/Mi/Gi/Ti, K/M/G/T), got '\(text)'")
            }
            return bytes
        }
        let configuration = WorkerConfiguration(
            controlURL: control, token: token, dataDirectory: data, nodeName: name,
            plinthBinary: ReplicaSandbox.ownExecutable(), dataListen: dataListen,
            dataAdvertise: args.value("advertise"),
            runtimeAccessLog: args.has("access-log"), cpuMillicores: cpus, memoryBytes: memory)
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

    /// "4294967296", "512Mi", "4Gi", "2G" (powers of 1000 without the i); nil when malformed.
    static func parseByteSize(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [
            ("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40), ("K", 1_000), ("M", 1_000_000),
            ("G", 1_000_000_000), ("T", 1_000_000_000_000),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = UInt64(text.dropLast(suffix.count)) else { return nil }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        return UInt64(text)
    }

    static func defaultNodeName() -> String {
        let host = ProcessInfo.processInfo.hostName.lowercased().split(separator: ".").first.map(String.init) ?? "node"
        let label = String(host.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(63))
        return label.isEmpty ? "node" : label
    }
}
