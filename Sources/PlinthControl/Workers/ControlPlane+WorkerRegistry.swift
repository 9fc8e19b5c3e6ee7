import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import PlinthStore
import Synchronization

/// A replica a worker reports as ready, as the gateway needs it.
public struct ReplicaEndpointRecord: Sendable, Equatable {
    public var tenant: String
    public var deployment: String
    public var model: String
    public var version: String
    public var replica: String
    /// "unix:/path/replica.sock" (or "http://host:port").
    public var endpoint: String
    public var worker: String
    /// A replica of an outgoing definition, kept while its replacements start.
    public var retiring: Bool
    /// For an endpoint on a worker's data-plane forwarder: the secret that forwarder accepts.
    public var dataSecret: String?
    /// "onnx" (served by `plinth runtime`) or "external".
    public var format: String
}

extension ControlPlane {
    /// Names the worker routes own; a node may not take them.
    static let reservedWorkerNames: Set<String> = ["register", "tokens", "artifacts"]

    /// Registers (or re-registers) a node. The same `nodeName` keeps its worker id. `tokenID` is
    /// the node token it presented; nil only for the in-process worker of `plinth serve`.
    public func registerWorker(_ request: RegisterRequest, tokenID: String?, now: Date = Date()) throws
        -> RegisterResponse
    {
        guard Validation.isDNSLabel(request.nodeName), !Self.reservedWorkerNames.contains(request.nodeName) else {
            throw ControlError.invalid(
                field: "nodeName", message: "a DNS label (a-z, 0-9, '-'), not register/tokens/artifacts")
        }
        guard request.capacity.cpuMillicores >= 0, request.agentVersion.utf8.count <= 64,
            request.capacity.gpus.count <= 64
        else { throw ControlError.invalid(field: "capacity", message: "out of range") }
        if let dataEndpoint = request.dataEndpoint {
            guard dataEndpoint.hasPrefix("http://"), dataEndpoint.utf8.count <= 300,
                case .tcp = try? HTTPEndpoint(url: dataEndpoint)
            else {
                throw ControlError.invalid(field: "dataEndpoint", message: "must be http://host:port")
            }
        }
        let dataSecret = request.dataEndpoint.map { _ in "pld_" + Hex.encode(SecureRandom.bytes(32)) }
        loadWorkersIfNeeded()
        let existing = cluster.state.withLock { $0.worker(named: request.nodeName) }
        if let existing, existing.tokenID != tokenID {
            // Another token may take the name over only once the old token is revoked.
            let oldRevoked = try existing.tokenID.map { try nodeTokenRevoked($0) } ?? false
            guard oldRevoked else {
                throw ControlError.conflict("node name \(request.nodeName) is registered with another node token")
            }
        }
        let id = existing?.id ?? "w_" + Hex.encode(SecureRandom.bytes(6))
        let seconds = Int64(now.timeIntervalSince1970)
        try store.write { db in
            try db.execute(
                """
                INSERT INTO workers (id, name, token_id, agent_version, capacity, isolation, registered_at, last_heartbeat_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET token_id = excluded.token_id, agent_version = excluded.agent_version,
                    capacity = excluded.capacity, isolation = excluded.isolation, last_heartbeat_at = excluded.last_heartbeat_at
                """,
                [
                    id, request.nodeName, tokenID, request.agentVersion, JSONColumn.encode(request.capacity),
                    JSONColumn.encode(request.isolation), seconds, seconds,
                ] as [any SQLBindable])
        }
        cluster.state.withLock { state in
            var entry =
                state.workers[id]
                ?? WorkerEntry(
                    id: id, name: request.nodeName, tokenID: tokenID, agentVersion: request.agentVersion,
                    capacity: request.capacity, isolation: request.isolation, registeredAt: now)
            entry.tokenID = tokenID
            entry.agentVersion = request.agentVersion
            entry.capacity = request.capacity
            entry.isolation = request.isolation
            entry.dataEndpoint = request.dataEndpoint
            entry.dataSecret = dataSecret
            entry.dataPlane = nil
            entry.lastHeartbeat = now
            entry.lastPersisted = now
            entry.sequence = 0
            state.workers[id] = entry
        }
        logger.info(
            "worker registered",
            [
                "worker": .string(id), "node": .string(request.nodeName),
                "cpu_millicores": .int(request.capacity.cpuMillicores), "gpus": .int(request.capacity.gpus.count),
                "isolation": .string(request.isolation.grade),
                "data_endpoint": .string(request.dataEndpoint ?? "(none)"),
            ])
        startClusterReconciler()
        return RegisterResponse(
            workerID: id, heartbeatIntervalSeconds: cluster.settings.heartbeatIntervalSeconds, dataSecret: dataSecret)
    }

    /// Takes a worker's heartbeat and answers with everything it should run. Unknown worker →
    /// 404 (the agent registers again); a worker registered with another token → 403.
    public func acceptHeartbeat(_ beat: Heartbeat, tokenID: String?, now: Date = Date()) throws -> DesiredState {
        loadWorkersIfNeeded()
        var persist: Int64?
        var coldStarts: [ReplicaColdStart] = []
        try cluster.state.withLock { state in
            guard var entry = state.workers[beat.workerID] else { throw ControlError.notFound("unknown worker") }
            guard entry.tokenID == tokenID else {
                throw ControlError.forbidden("worker \(entry.name) is registered with another node token")
            }
            // Reports TCP endpoints but holds no secret from this control plane (it restarted):
            // 404 makes the node register again and get one.
            if entry.dataSecret == nil,
                beat.dataPlane != nil || beat.replicas.contains(where: { $0.endpoint?.hasPrefix("http") ?? false })
            {
                throw ControlError.notFound("unknown worker")
            }
            coldStarts = Self.coldStarts(
                previous: entry.reports, beat: beat, baseline: entry.sequence == 0, worker: entry.name,
                wanted: state.wanted)
            entry.lastHeartbeat = now
            entry.sequence = beat.sequence
            entry.appliedGeneration = beat.appliedGeneration
            entry.usage = beat.usage
            entry.dataPlane = beat.dataPlane
            entry.reports = Dictionary(
                beat.replicas.map { report in
                    var report = report
                    report.logTail = report.logTail.map(ReplicaReport.boundedLogTail)
                    return (report.id, report)
                }, uniquingKeysWith: { _, b in b })
            if now.timeIntervalSince(entry.lastPersisted) >= 10 {
                entry.lastPersisted = now
                persist = Int64(now.timeIntervalSince1970)
            }
            state.workers[beat.workerID] = entry
        }
        if let observe = configuration.replicaColdStartObserver {
            for start in coldStarts { observe(start) }
        }
        if let persist {
            try? store.write { db in
                try db.execute("UPDATE workers SET last_heartbeat_at = ? WHERE id = ?", persist, beat.workerID)
            }
        }
        reconcileCluster(now: now)
        return cluster.state.withLock { state in
            let entry = state.workers[beat.workerID]
            return DesiredState(
                generation: entry?.generation ?? 0, replicas: entry?.desired ?? [],
                heartbeatIntervalSeconds: cluster.settings.heartbeatIntervalSeconds)
        }
    }

    /// Removes a worker from the registry and the database. Its replicas are placed elsewhere on
    /// the next pass; if it is still alive, its next heartbeat gets 404 and it registers anew.
    public func forgetWorker(_ key: String) throws {
        loadWorkersIfNeeded()
        let removed = cluster.state.withLock { state -> WorkerEntry? in
            guard let entry = state.workers.values.first(where: { $0.name == key || $0.id == key }) else { return nil }
            state.workers[entry.id] = nil
            state.readyWorkers.remove(entry.id)
            return entry
        }
        guard let removed else { throw ControlError.notFound("worker not found") }
        try store.write { db in try db.execute("DELETE FROM workers WHERE id = ?", removed.id) }
        try recordReplicaReports([], worker: removed.name)
        logger.info("worker forgotten", ["worker": .string(removed.id), "node": .string(removed.name)])
        reconcileCluster()
    }

    /// Every replica reported ready by a ready worker it is placed on, sorted by replica id.
    public func readyReplicaEndpoints(now: Date = Date()) -> [ReplicaEndpointRecord] {
        let missingAfter = cluster.settings.missingAfterSeconds
        return cluster.state.withLock { state in
            var out: [ReplicaEndpointRecord] = []
            for (id, placement) in state.assignments {
                guard let worker = state.workers[placement.workerID],
                    worker.isReady(now: now, missingAfter: missingAfter),
                    let report = worker.reports[id], report.phase == .ready, let endpoint = report.endpoint,
                    let wanted = state.wanted[id]
                else { continue }
                // A TCP endpoint counts only at the forwarder the node registered: the secret is
                // never sent anywhere else.
                var dataSecret: String?
                if !endpoint.hasPrefix("unix:") {
                    guard endpoint == worker.dataEndpoint, let secret = worker.dataSecret else { continue }
                    dataSecret = secret
                }
                out.append(
                    ReplicaEndpointRecord(
                        tenant: wanted.deployment.tenant, deployment: wanted.deployment.name,
                        model: wanted.version.model, version: wanted.version.version, replica: id,
                        endpoint: endpoint, worker: worker.name, retiring: state.retiring[id] != nil,
                        dataSecret: dataSecret, format: wanted.version.format))
            }
            return out.sorted { $0.replica < $1.replica }
        }
    }

    /// The content-addressed file of an artifact, for a worker in this process (no download).
    public func artifactPath(sha256: String) -> String { blobs.path(for: sha256) }

    /// Reads registered workers from the database once (they count as missing until heard from).
    func loadWorkersIfNeeded() {
        guard !cluster.state.withLock({ $0.loaded }) else { return }
        let rows = (try? store.read { db in try db.query("SELECT * FROM workers") }) ?? []
        var entries: [WorkerEntry] = []
        for row in rows {
            guard let id = try? row.string("id"), let name = try? row.string("name"),
                let capacity = JSONColumn.decode(NodeCapacity.self, row.optionalString("capacity")),
                let isolation = JSONColumn.decode(IsolationLevel.self, row.optionalString("isolation"))
            else { continue }
            var entry = WorkerEntry(
                id: id, name: name, tokenID: row.optionalString("token_id"),
                agentVersion: row.optionalString("agent_version") ?? "",
                capacity: capacity, isolation: isolation,
                registeredAt: Date(timeIntervalSince1970: Double(row.optionalInt64("registered_at") ?? 0)))
            entry.lastHeartbeat = row.optionalInt64("last_heartbeat_at").map { Date(timeIntervalSince1970: Double($0)) }
            entries.append(entry)
        }
        let idsByName = Dictionary(entries.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
        var recovered: [String: Placement] = [:]
        let placed =
            (try? store.read { db in
                try db.query("SELECT replica, worker, gpus FROM replica_status WHERE worker != ''")
            }) ?? []
        for row in placed {
            guard let replica = try? row.string("replica"), let name = try? row.string("worker"),
                let id = idsByName[name]
            else { continue }
            let gpus = (row.optionalString("gpus") ?? "").split(separator: ",").compactMap { Int($0) }
            recovered[replica] = Placement(workerID: id, gpuIndices: gpus)
        }
        cluster.state.withLock { state in
            guard !state.loaded else { return }
            state.loaded = true
            for entry in entries where state.workers[entry.id] == nil { state.workers[entry.id] = entry }
            state.recovered = recovered
        }
    }

    /// Reconciles every second in the background (missing workers are noticed without traffic).
    /// The thread holds the plane weakly and ends with it.
    func startClusterReconciler() {
        guard
            cluster.backgroundStarted.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent)
                .exchanged
        else { return }
        Thread.detachNewThread { [weak self] in
            while true {
                usleep(1_000_000)
                guard let plane = self else { return }
                plane.reconcileCluster()
            }
        }
    }
}
