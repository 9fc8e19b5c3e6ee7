import Foundation
import PlinthCore
import PlinthHTTP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The node agent: detects what the node offers and how well it can isolate replicas,
/// registers with the control plane, then heartbeats — reporting every replica's state and
/// receiving the desired set in the answer, which it applies (artifacts fetched into the
/// verified cache, replicas reconciled by the supervisor). See docs/worker.md.
public final class WorkerAgent: Sendable {
    public let configuration: WorkerConfiguration
    public let isolation: IsolationLevel
    public let capacity: NodeCapacity
    public let supervisor: ReplicaSupervisor
    public let cache: ArtifactCache
    let fetcher: ArtifactFetcher
    let planner: ReplicaPlanner
    /// The data-plane forwarder and the "http://host:port" it is reached at, with `--data-listen`.
    public let forwarder: ReplicaForwarder?
    public let dataEndpoint: String?
    let client: HTTPClient
    let endpoint: HTTPEndpoint
    let logger: Logger
    let state = Mutex(AgentState())

    struct AgentState {
        var workerID: String?
        var sequence = 0
        var appliedGeneration = 0
        var heartbeatInterval: Double = 5
        /// Desired replicas that could not be started, with why (reported as pending).
        var unplaceable: [String: ReplicaCondition] = [:]
        var stopping = false
    }

    /// Prepares the data directory, detects capacity and isolation. Starts nothing yet.
    public init(
        configuration: WorkerConfiguration, client: HTTPClient = HTTPClient(),
        logger: Logger = Logger(component: "worker")
    ) throws {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        do {
            endpoint = try HTTPEndpoint(url: configuration.controlURL)
        } catch {
            throw WorkerError.setup("bad control URL '\(configuration.controlURL)': \(error)")
        }
        let data = configuration.dataDirectory
        let sandbox = try ReplicaSandbox.forNode(
            dataDirectory: data, nodeName: configuration.nodeName, plinthBinary: configuration.plinthBinary)
        cache = try ArtifactCache(directory: data + "/artifacts")
        fetcher = ArtifactFetcher(
            cache: cache, client: client, endpoint: endpoint, token: configuration.token,
            retryDelaySeconds: configuration.artifactRetrySeconds, logger: logger)
        isolation = sandbox.isolation
        var capacity = NodeResources.capacity(gpus: GPUInventory.detect())
        if let cpus = configuration.cpuMillicores { capacity.cpuMillicores = cpus }
        if let memory = configuration.memoryBytes { capacity.memoryBytes = memory }
        self.capacity = capacity
        let supervisor = ReplicaSupervisor(sandbox: sandbox, policy: configuration.policy, logger: logger)
        self.supervisor = supervisor
        planner = ReplicaPlanner(
            runtimeCommand: [sandbox.launcherPath, "runtime"], replicasDirectory: sandbox.replicasDirectory,
            accessLog: configuration.runtimeAccessLog)
        if let listen = configuration.dataListen {
            let forwarder = ReplicaForwarder(listen: listen) { id in
                guard let replica = supervisor.snapshot(of: id) else { return .unknown }
                guard replica.phase == .ready || replica.phase == .draining || replica.phase == .starting,
                    let endpoint = replica.endpoint, let parsed = try? HTTPEndpoint(url: endpoint)
                else { return .notRunning }
                return .running(parsed)
            }
            let bound: ListenAddress
            do {
                bound = try forwarder.start()
            } catch {
                throw WorkerError.setup("cannot listen on \(listen) for the data plane: \(error)")
            }
            let advertised: String
            do {
                advertised = try Self.advertisedEndpoint(bound: bound, advertise: configuration.dataAdvertise)
            } catch {
                forwarder.shutdown()
                throw error
            }
            self.forwarder = forwarder
            self.dataEndpoint = advertised
        } else {
            forwarder = nil
            dataEndpoint = nil
        }
        state.withLock { $0.heartbeatInterval = configuration.heartbeatIntervalSeconds }
        logger.info(
            "worker isolation",
            [
                "configuration": .string(configuration.description), "isolation": .string(isolation.description),
                "cpus": .int(capacity.cpuMillicores / 1000), "memory_bytes": .int(Int(clamping: capacity.memoryBytes)),
                "gpus": .int(capacity.gpus.count), "data_endpoint": .string(dataEndpoint ?? "(none)"),
            ])
    }

    /// "http://host:port" for the gateway: `--advertise` when given, else the bound address, which
    /// must then be a concrete one (a wildcard address names no machine).
    static func advertisedEndpoint(bound: ListenAddress, advertise: String?) throws -> String {
        if let advertise {
            guard case .tcp(let host, let port)? = try? ListenAddress.parse(advertise), port > 0,
                !host.contains(where: { $0.isWhitespace || $0 == "/" }), host != "0.0.0.0", host != "::"
            else { throw WorkerError.setup("--advertise must be HOST:PORT, got '\(advertise)'") }
            return HTTPEndpoint.tcp(host: host, port: port).description
        }
        guard case .tcp(let host, let port) = bound else {
            throw WorkerError.setup("--data-listen must be a TCP address HOST:PORT")
        }
        guard host != "0.0.0.0", host != "::" else {
            throw WorkerError.setup("--data-listen on all interfaces needs --advertise HOST:PORT")
        }
        return HTTPEndpoint.tcp(host: host, port: port).description
    }

    /// Registers (retrying with back-off), then heartbeats until `stop()`; drains all replicas
    /// before returning.
    public func run() {
        supervisor.start()
        var failures = 0
        while !isStopping {
            do {
                if state.withLock({ $0.workerID }) == nil {
                    let registered = try register()
                    logger.info("worker registered", ["worker": .string(registered.workerID)])
                }
                let desired = try heartbeat()
                apply(desired)
                failures = 0
                pause(state.withLock { $0.heartbeatInterval })
            } catch WorkerError.unknownWorker {
                state.withLock { $0.workerID = nil }
            } catch {
                failures += 1
                let delay = min(30, 0.5 * Double(1 << min(failures, 6)))
                logger.warning(
                    "control plane exchange failed", ["error": .string("\(error)"), "retry_in_s": .double(delay)])
                pause(delay)
            }
        }
        supervisor.shutdown(timeoutSeconds: configuration.policy.drainGrace + 10)
        forwarder?.shutdown()
    }

    /// Asks `run()` to finish: it drains the replicas and returns.
    public func stop() { state.withLock { $0.stopping = true } }

    var isStopping: Bool { state.withLock { $0.stopping } }

    func pause(_ seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !isStopping { usleep(50_000) }
    }

    /// `POST /v1/workers/register`.
    @discardableResult
    public func register() throws -> RegisterResponse {
        let request = RegisterRequest(
            nodeName: configuration.nodeName, agentVersion: PlinthVersion.current, capacity: capacity,
            isolation: isolation, dataEndpoint: dataEndpoint)
        let response: RegisterResponse = try exchange("/v1/workers/register", request)
        if let forwarder {
            guard let secret = response.dataSecret, !secret.isEmpty else {
                throw WorkerError.controlPlane(
                    status: 200, message: "the control plane issued no data-plane secret (too old for --data-listen?)")
            }
            forwarder.setSecret(secret)
        }
        state.withLock {
            $0.workerID = response.workerID
            $0.sequence = 0
            if response.heartbeatIntervalSeconds > 0 { $0.heartbeatInterval = response.heartbeatIntervalSeconds }
        }
        return response
    }

    /// `POST /v1/workers/{id}/heartbeat`: reports, and returns the desired state.
    public func heartbeat() throws -> DesiredState {
        let beat = currentHeartbeat()
        guard !beat.workerID.isEmpty else { throw WorkerError.unknownWorker }
        let path =
            "/v1/workers/\(beat.workerID.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? "")/heartbeat"
        let desired: DesiredState = try exchange(path, beat)
        if let interval = desired.heartbeatIntervalSeconds, interval > 0 {
            state.withLock { $0.heartbeatInterval = min(max(interval, 0.1), 300) }
        }
        return desired
    }

    /// The heartbeat the agent would send now.
    public func currentHeartbeat() -> Heartbeat {
        let snapshots = supervisor.snapshot()
        let known = Set(snapshots.map(\.id))
        return state.withLock { state in
            state.sequence += 1
            var reports = snapshots.map(\.report)
            if let dataEndpoint {
                // The gateway reaches every replica of this node through the forwarder.
                for i in reports.indices where reports[i].endpoint != nil { reports[i].endpoint = dataEndpoint }
            }
            for (id, condition) in state.unplaceable.sorted(by: { $0.key < $1.key }) where !known.contains(id) {
                reports.append(ReplicaReport(id: id, phase: .pending, endpoint: nil, restarts: 0, condition: condition))
            }
            return Heartbeat(
                workerID: state.workerID ?? "", sequence: state.sequence, appliedGeneration: state.appliedGeneration,
                replicas: reports, usage: NodeResources.usage(), dataPlane: forwarder?.counters)
        }
    }

    /// Hands the runnable replicas to the supervisor; replicas whose artifact is still
    /// downloading (in the background) or failed to download are reported as pending.
    public func apply(_ desired: DesiredState) {
        var launches: [ReplicaLaunch] = []
        var unplaceable: [String: ReplicaCondition] = [:]
        for replica in desired.replicas {
            var artifactPath: String?
            if let artifact = replica.artifact {
                switch fetcher.request(artifact) {
                case .cached(let path):
                    artifactPath = path
                case .downloading:
                    unplaceable[replica.id] = ReplicaCondition(
                        reason: "Downloading",
                        message: "fetching artifact \(artifact.sha256) (\(artifact.sizeBytes) bytes)")
                    continue
                case .failed(let error):
                    unplaceable[replica.id] = ReplicaCondition(reason: "ArtifactUnavailable", message: "\(error)")
                    continue
                }
            }
            do {
                launches.append(try planner.launch(for: replica, artifactPath: artifactPath))
            } catch {
                unplaceable[replica.id] = ReplicaCondition(reason: "InvalidReplica", message: "\(error)")
            }
        }
        let previous = state.withLock { $0.unplaceable }
        for (id, condition) in unplaceable where previous[id] != condition && condition.reason != "Downloading" {
            logger.warning(
                "replica not runnable",
                ["replica": .string(id), "reason": .string(condition.reason), "detail": .string(condition.message)])
        }
        supervisor.reconcile(launches)
        state.withLock {
            $0.unplaceable = unplaceable
            $0.appliedGeneration = desired.generation
        }
    }

    /// POSTs `body` as JSON and decodes the JSON answer, mapping statuses to `WorkerError`.
    func exchange<Request: Encodable, Response: Decodable>(_ path: String, _ body: Request) throws -> Response {
        var headers = HTTPHeaders()
        headers.set("Authorization", "Bearer " + configuration.token)
        headers.set("Content-Type", "application/json")
        let encoded: [UInt8]
        do {
            encoded = Array(try JSONEncoder().encode(body))
        } catch {
            throw WorkerError.setup("cannot encode \(Request.self): \(error)")
        }
        let response: HTTPClientResponse
        do {
            response = try client.send(
                HTTPClientRequest(method: .POST, path: path, headers: headers, body: encoded), to: endpoint)
        } catch {
            throw WorkerError.transport("\(error)")
        }
        switch response.status {
        case 200, 201:
            do {
                return try JSONDecoder().decode(Response.self, from: Data(response.body))
            } catch {
                throw WorkerError.controlPlane(status: response.status, message: "unreadable answer: \(error)")
            }
        case 401, 403:
            throw WorkerError.unauthorized(response.status)
        case 404, 410:
            throw path.hasSuffix("/heartbeat")
                ? WorkerError.unknownWorker
                : WorkerError.controlPlane(status: response.status, message: "no worker API at \(path)")
        default:
            let message = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw WorkerError.controlPlane(status: response.status, message: message)
        }
    }
}
