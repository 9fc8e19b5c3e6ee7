import PlinthCore

/// Turns the control plane's `DesiredReplica` into what the sandbox runs: the command (the
/// built-in runtime for ONNX, the given argv for external runtimes with `{artifact}` filled in),
/// the artifact file, the environment and the limits. The one place the built-in runtime's argv
/// is built, for the in-process worker of `plinth serve` and remote `plinth worker`s alike.
public struct ReplicaPlanner: Sendable {
    /// argv prefix of the built-in runtime: `[plinth, "runtime"]`.
    public let runtimeCommand: [String]
    /// Where replica folders live (`ReplicaSandbox.replicasDirectory`).
    public let replicasDirectory: String
    /// Passes `--access-log` to built-in runtimes (a node setting, not a deployment's).
    public let accessLog: Bool

    public init(runtimeCommand: [String], replicasDirectory: String, accessLog: Bool = false) {
        self.runtimeCommand = runtimeCommand
        self.replicasDirectory = replicasDirectory
        self.accessLog = accessLog
    }

    /// Flags of the built-in runtime for `replica` after `--model` and `--listen`: its name and
    /// version label, and the deployment's batching and body limits.
    public func runtimeArguments(for replica: DesiredReplica) -> [String] {
        var arguments = ["--name", replica.deployment, "--version", replica.version]
        // As many event loops as the replica has CPUs: a second loop in a one-CPU cgroup only
        // adds hand-offs between loops and the batcher (and context switches) per request.
        arguments += ["--event-loops", String(max(1, (replica.limits.cpuMillicores + 999) / 1000))]
        if let settings = replica.runtime {
            arguments += [
                "--max-batch", String(max(1, settings.maxBatchSize)),
                "--max-delay-us", String(max(0, settings.maxQueueDelayMicros)),
                "--max-body-bytes", String(max(1024, settings.maxBodyBytes)),
            ]
        }
        if accessLog { arguments.append("--access-log") }
        return arguments
    }

    /// The launch for `replica`, given the cached artifact path (nil when it has none).
    public func launch(for replica: DesiredReplica, artifactPath: String?) throws(ReplicaPlanError) -> ReplicaLaunch {
        guard ReplicaLaunch.isValidID(replica.id) else {
            throw .invalid(replica.id, "id must be 1–64 of [A-Za-z0-9_-]")
        }
        guard replica.limits.memoryBytes > 0, replica.limits.cpuMillicores > 0 else {
            throw .invalid(replica.id, "instance class limits must be positive")
        }
        guard replica.gpuIndices.count == Set(replica.gpuIndices).count, replica.gpuIndices.allSatisfy({ $0 >= 0 })
        else {
            throw .invalid(replica.id, "bad GPU indices \(replica.gpuIndices)")
        }
        var files: [String: String] = [:]
        var modelPath: String?
        if let artifact = replica.artifact {
            guard ReplicaLaunch.isValidFileName(artifact.fileName) else {
                throw .invalid(replica.id, "bad artifact file name '\(artifact.fileName)'")
            }
            guard let artifactPath else { throw .invalid(replica.id, "artifact \(artifact.sha256) is not cached") }
            files[artifact.fileName] = artifactPath
            modelPath = replicasDirectory + "/" + replica.id + "/artifact/" + artifact.fileName
        }
        let socket = replicasDirectory + "/" + replica.id + "/run/replica.sock"
        let command: [String]
        switch replica.format {
        case "onnx":
            guard let modelPath else { throw .invalid(replica.id, "an onnx replica needs an artifact") }
            command =
                runtimeCommand + ["--model", modelPath, "--listen", "unix:" + socket] + runtimeArguments(for: replica)
        case "external":
            guard let given = replica.command, let first = given.first, !first.isEmpty else {
                throw .invalid(replica.id, "an external replica needs a command")
            }
            if modelPath == nil, given.contains(where: { $0.contains(RuntimeManifest.artifactPlaceholder) }) {
                throw .invalid(replica.id, "the command names {artifact} but the replica has none")
            }
            command = RuntimeManifest(command: given).resolvedCommand(artifactPath: modelPath ?? "")
        default:
            throw .invalid(replica.id, "unknown format '\(replica.format)'")
        }
        var environment: [String: String] = [:]
        for (key, value) in replica.environment where !key.hasPrefix("PLINTH_") && !key.isEmpty && !key.contains("=") {
            environment[key] = value
        }
        if let modelPath { environment["PLINTH_MODEL"] = modelPath }
        environment["PLINTH_TENANT"] = replica.tenant
        environment["PLINTH_DEPLOYMENT"] = replica.deployment
        environment["PLINTH_VERSION"] = replica.version
        return ReplicaLaunch(
            id: replica.id, command: command, environment: environment, files: files, limits: replica.limits,
            gpuIndices: replica.gpuIndices)
    }
}

/// A desired replica the agent cannot run as given.
public enum ReplicaPlanError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String, String)

    public var description: String {
        switch self {
        case .invalid(let id, let message): "replica \(id): \(message)"
        }
    }
}
