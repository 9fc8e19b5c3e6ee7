import Foundation
import PlinthCore
import PlinthHTTP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension ControlPlane {
    /// Node tokens, the worker protocol (node token only; see docs/worker.md) and the admin view.
    /// The protocol routes are `.anonymous` to the tenant authenticator: they check the node token
    /// themselves, and tenant credentials never pass there.
    func workerRoutes() -> [RouteDefinition] {
        nodeTokenRoutes() + [
            RouteDefinition(
                .GET, "/v1/workers", id: "listWorkers",
                "Worker nodes: capacity, isolation, state, last heartbeat and replicas.", tag: "workers",
                access: .admin, response: "WorkerPage", query: ["limit", "cursor"]
            ) { [self] context in try listWorkers(context) },
            RouteDefinition(
                .GET, "/v1/workers/{worker}", id: "getWorker", "One worker node, by name or id.", tag: "workers",
                access: .admin, response: "Worker"
            ) { [self] context in
                let key = try context.parameter("worker")
                guard let view = workerViews().first(where: { $0.name == key || $0.id == key }) else {
                    throw ControlError.notFound("worker not found")
                }
                return .json(view)
            },
            RouteDefinition(
                .DELETE, "/v1/workers/{worker}", id: "deleteWorker",
                "Forget a worker (by name or id), e.g. a decommissioned node; its replicas are placed elsewhere.",
                tag: "workers", access: .admin, status: 204
            ) { [self] context in
                try forgetWorker(try context.parameter("worker"))
                return HTTPResponse(status: 204)
            },
            RouteDefinition(
                .POST, "/v1/workers/register", id: "registerWorker",
                "Worker protocol (node token): a node registers its capacity and isolation.", tag: "workers",
                access: .anonymous, request: "RegisterRequest", response: "RegisterResponse"
            ) { [self] context in
                let token = try authenticateNode(context.request)
                let body = try decode(RegisterRequest.self, context.request)
                return .json(try registerWorker(body, tokenID: token))
            },
            RouteDefinition(
                .POST, "/v1/workers/{worker}/heartbeat", id: "workerHeartbeat",
                "Worker protocol (node token): report replicas, receive the desired state.", tag: "workers",
                access: .anonymous, options: RouteOptions(maxBodyBytes: 16 << 20), request: "Heartbeat",
                response: "DesiredState"
            ) { [self] context in
                let token = try authenticateNode(context.request)
                let body = try decode(Heartbeat.self, context.request)
                guard body.workerID == (try context.parameter("worker")) else {
                    throw ControlError.badRequest("workerID in the body differs from the path")
                }
                return .json(try acceptHeartbeat(body, tokenID: token))
            },
            RouteDefinition(
                .GET, "/v1/workers/artifacts/{sha256}", id: "downloadWorkerArtifact",
                "Worker protocol (node token): an artifact of a replica placed on one of the token's workers.",
                tag: "workers", access: .anonymous
            ) { [self] context in
                let token = try authenticateNode(context.request)
                return try workerArtifact(try context.parameter("sha256"), tokenID: token)
            },
        ]
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(request.body))
        } catch {
            throw ControlError.badRequest("malformed \(type) body: \(error)")
        }
    }

    private func listWorkers(_ context: RequestContext) throws -> HTTPResponse {
        let list = try ListQuery(context.request, labelled: false)
        let views = workerViews().filter { list.after == nil || $0.name > list.after! }
        return .json(list.page(Array(views.prefix(list.limit))) { $0.name })
    }

    /// Every worker, sorted by name.
    func workerViews(now: Date = Date()) -> [WorkerView] {
        loadWorkersIfNeeded()
        let missingAfter = cluster.settings.missingAfterSeconds
        return cluster.state.withLock { state in
            state.workers.values.sorted { $0.name < $1.name }.map { entry in
                var allocated = WorkerView.Resources(cpuMillicores: 0, memoryBytes: 0, gpus: 0)
                let replicas = entry.desired.map { replica -> WorkerView.ReplicaView in
                    allocated.cpuMillicores += replica.limits.cpuMillicores
                    allocated.memoryBytes += replica.limits.memoryBytes
                    allocated.gpus += replica.gpuIndices.count
                    let report = entry.reports[replica.id]
                    let wanted = state.wanted[replica.id]
                    return WorkerView.ReplicaView(
                        id: replica.id, tenant: replica.tenant, deployment: replica.deployment,
                        model: wanted?.version.model ?? "", version: replica.version,
                        phase: (report?.phase ?? .pending).rawValue, restarts: report?.restarts ?? 0,
                        endpoint: report?.endpoint, reason: report?.condition?.reason,
                        message: report?.condition?.message, gpuIndices: replica.gpuIndices)
                }
                return WorkerView(
                    id: entry.id, name: entry.name,
                    state: entry.isReady(now: now, missingAfter: missingAfter) ? "ready" : "missing",
                    agentVersion: entry.agentVersion, capacity: entry.capacity, allocated: allocated,
                    isolation: entry.isolation, isolationGrade: entry.isolation.grade,
                    registeredAt: entry.registeredAt, lastHeartbeatAt: entry.lastHeartbeat, usage: entry.usage,
                    generation: entry.generation, appliedGeneration: entry.appliedGeneration, replicas: replicas,
                    dataEndpoint: entry.dataEndpoint, dataPlane: entry.dataPlane)
            }
        }
    }

    /// Streams an artifact from the blob store, only when a replica using it is placed on a worker
    /// registered with this token (else 404, revealing nothing).
    private func workerArtifact(_ sha256: String, tokenID: String) throws -> HTTPResponse {
        let allowed = cluster.state.withLock { state in
            state.assignments.contains { id, placement in
                state.workers[placement.workerID]?.tokenID == tokenID && state.wanted[id]?.version.sha256 == sha256
            }
        }
        guard allowed, sha256.utf8.count == 64 else { throw ControlError.notFound("artifact not found") }
        let path = blobs.path(for: sha256)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ControlError.notFound("artifact not found") }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int(info.st_size) : -1
        close(fd)
        guard size >= 0 else { throw ControlError.notFound("artifact not found") }
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/octet-stream")
        headers.set("ETag", "\"sha256:\(sha256)\"")
        return HTTPResponse(
            status: 200, headers: headers,
            body: .stream(length: size) { writer in
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BlobError.io("artifact vanished") }
                defer { close(fd) }
                var chunk = [UInt8](repeating: 0, count: 1 << 20)
                var remaining = size
                while remaining > 0 {
                    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, remaining)) }
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { throw BlobError.io("short read") }
                    try writer.write(n == chunk.count ? chunk : Array(chunk[0..<n]))
                    remaining -= n
                }
            })
    }
}
