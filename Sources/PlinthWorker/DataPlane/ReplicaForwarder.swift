import PlinthCore
import PlinthHTTP
import Synchronization

/// The worker's data-plane endpoint (`plinth worker --data-listen HOST:PORT`): a small HTTP
/// server that relays Open Inference Protocol requests from the gateway to one of this node's
/// replicas over its Unix socket, so replicas themselves keep no network.
///
/// The gateway names the replica in `Plinth-Replica` and proves itself with
/// `Authorization: Bearer <secret>`, the data-plane secret the control plane issued to this node at
/// registration. Anything else gets 401 and never reaches a replica. Relayed requests run on the
/// event loop through its non-blocking, pooled `UpstreamClient`; bodies pass byte for byte (JSON
/// and binary tensors alike).
public final class ReplicaForwarder: Sendable {
    /// Finds the Unix socket of a running replica by id; nil when it does not run here.
    public typealias Resolver = @Sendable (_ replicaID: String) -> ReplicaTarget

    /// Where a named replica is, as the resolver sees it.
    public enum ReplicaTarget: Sendable, Equatable {
        case running(HTTPEndpoint)
        /// Known but not running now (starting over, draining out).
        case notRunning
        case unknown
    }

    /// The paths the gateway uses towards a runtime.
    public static let routes: [(HTTPMethod, String)] = [
        (.POST, "/v2/models/{model}/infer"), (.POST, "/v2/models/{model}/versions/{version}/infer"),
        (.GET, "/v2/models/{model}"), (.GET, "/v2/models/{model}/versions/{version}"),
        (.GET, "/v2/models/{model}/ready"), (.GET, "/v2/models/{model}/versions/{version}/ready"),
        (.GET, "/v2/health/live"), (.GET, "/v2/health/ready"), (.GET, "/v2"),
    ]

    /// Fields never relayed either way: hop-by-hop framing, the gateway's credential and routing.
    static let droppedHeaders: Set<String> = [
        "authorization", "plinth-replica", "host", "connection", "keep-alive", "transfer-encoding",
        "content-length", "te", "upgrade", "proxy-authorization", "proxy-connection", "trailer",
    ]

    let resolve: Resolver
    let requestTimeout: Duration
    let server: HTTPServer
    private let secret = Mutex<[UInt8]?>(nil)
    private let forwarded = Atomic<Int>(0)
    private let unauthorized = Atomic<Int>(0)
    private let unknownReplica = Atomic<Int>(0)
    private let upstreamFailures = Atomic<Int>(0)

    /// - Parameters:
    ///   - listen: the TCP address to bind.
    ///   - maxBodyBytes: largest relayed request body (the gateway's own cap is 64 MiB).
    ///   - requestTimeout: longest wait for a replica's answer (the gateway times out first).
    public init(
        listen: ListenAddress, eventLoops: Int = 2, maxBodyBytes: Int = 64 << 20,
        requestTimeout: Duration = .seconds(300), resolve: @escaping Resolver
    ) {
        self.resolve = resolve
        self.requestTimeout = requestTimeout
        var configuration = HTTPServerConfiguration(listen: [listen])
        configuration.eventLoopCount = max(1, eventLoops)
        configuration.handlerThreadCount = 2
        let router = Router()
        server = HTTPServer(configuration: configuration, router: router)
        let options = RouteOptions(maxBodyBytes: maxBodyBytes, runsOnEventLoop: true)
        for (method, pattern) in Self.routes {
            router.addAsync(method, pattern, options: options) { [self] request, responder in
                relay(request, responder)
            }
        }
    }

    /// Binds and starts serving; returns the bound address (the real port when 0 was asked).
    public func start() throws -> ListenAddress {
        let bound = try server.start()
        return bound.first ?? server.configuration.listen[0]
    }

    public func shutdown() { server.shutdown() }

    /// Sets the secret callers must present (from the registration answer); nil refuses everyone.
    public func setSecret(_ value: String?) {
        secret.withLock { $0 = value.map { Array($0.utf8) } }
    }

    /// Counters since start, for the heartbeat.
    public var counters: DataPlaneCounters {
        DataPlaneCounters(
            forwarded: forwarded.load(ordering: .relaxed), unauthorized: unauthorized.load(ordering: .relaxed),
            unknownReplica: unknownReplica.load(ordering: .relaxed),
            upstreamFailures: upstreamFailures.load(ordering: .relaxed))
    }

    /// Checks the caller and finds the replica: the endpoint to relay to, or the error to answer.
    /// Authentication comes first, so an unauthenticated caller learns nothing about replicas.
    public func admit(_ request: HTTPRequest) -> Result<HTTPEndpoint, HTTPError> {
        guard let expected = secret.withLock({ $0 }), let presented = Self.bearer(request.headers),
            Self.constantTimeEqual(Array(presented.utf8), expected)
        else {
            unauthorized.add(1, ordering: .relaxed)
            return .failure(
                HTTPError(401, "a valid data-plane secret is required", headers: ["WWW-Authenticate": "Bearer"]))
        }
        guard let id = request.headers[DataPlaneHeaders.replica], !id.isEmpty else {
            unknownReplica.add(1, ordering: .relaxed)
            return .failure(HTTPError(400, "the \(DataPlaneHeaders.replica) header names no replica"))
        }
        switch resolve(id) {
        case .running(let endpoint):
            return .success(endpoint)
        case .notRunning:
            unknownReplica.add(1, ordering: .relaxed)
            return .failure(
                HTTPError(503, "replica \(id) is not running on this node", headers: [DataPlaneHeaders.notRelayed: "1"])
            )
        case .unknown:
            unknownReplica.add(1, ordering: .relaxed)
            return .failure(
                HTTPError(503, "no replica \(id) on this node", headers: [DataPlaneHeaders.notRelayed: "1"]))
        }
    }

    /// The request as the replica receives it: same method, path, query, body and end-to-end
    /// headers; without the gateway's credential, replica name and framing fields.
    public static func relayedRequest(_ request: HTTPRequest) -> HTTPClientRequest {
        var headers = HTTPHeaders()
        for (name, value) in request.headers where !droppedHeaders.contains(name.lowercased()) {
            headers.add(name, value)
        }
        let path = request.query.isEmpty ? request.path : request.path + "?" + request.query
        return HTTPClientRequest(method: request.method, path: path, headers: headers, body: request.body)
    }

    /// The replica's answer as the gateway receives it (framing is the server's own).
    public static func relayedResponse(_ upstream: HTTPClientResponse) -> HTTPResponse {
        var headers = HTTPHeaders()
        for (name, value) in upstream.headers where !droppedHeaders.contains(name.lowercased()) {
            headers.add(name, value)
        }
        return HTTPResponse(status: upstream.status, headers: headers, body: .bytes(upstream.body))
    }

    func relay(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let endpoint: HTTPEndpoint
        switch admit(request) {
        case .success(let found): endpoint = found
        case .failure(let error):
            responder.complete(error)
            return
        }
        guard let loop = request.eventLoop, loop.inEventLoop else {
            responder.complete(HTTPError(500, "the forwarder runs on its event loop only"))
            return
        }
        loop.upstream.send(Self.relayedRequest(request), to: endpoint, timeout: requestTimeout) { [self] result in
            switch result {
            case .success(let response):
                forwarded.add(1, ordering: .relaxed)
                responder.complete(Self.relayedResponse(response))
            case .failure(.connectFailed):
                upstreamFailures.add(1, ordering: .relaxed)
                responder.complete(
                    HTTPError(503, "the replica refused the connection", headers: [DataPlaneHeaders.notRelayed: "1"]))
            case .failure(.timedOut):
                upstreamFailures.add(1, ordering: .relaxed)
                responder.complete(HTTPError(504, "the replica did not answer in time"))
            case .failure:
                upstreamFailures.add(1, ordering: .relaxed)
                responder.complete(HTTPError(502, "the replica failed to answer"))
            }
        }
    }

    static func bearer(_ headers: HTTPHeaders) -> String? {
        guard let value = headers[DataPlaneHeaders.authorization], value.utf8.count > 7,
            value.prefix(7).lowercased() == "bearer "
        else { return nil }
        return String(value.dropFirst(7))
    }

    /// Equal bytes, in time independent of where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
