import PlinthCore
import PlinthHTTP

/// The gateway's seam to the control plane (who is calling, what may they call) and to the data
/// plane (where the replicas are). The executable implements it over the control plane's state and
/// the local worker's replicas; PlinthGateway never imports those modules.
///
/// Both calls are on the request path: implementations answer from memory (O(1) lookups, a cache
/// refreshed on change), never from a database query per request, and never hash passwords per
/// request (see `GatewayAuthError.throttled`).
public protocol GatewayDirectory: Sendable {
    /// Resolves a credential to the principal it belongs to, or throws `GatewayAuthError`.
    /// `remoteAddress` lets the implementation throttle failed attempts per client.
    func authenticate(_ credential: GatewayCredential, remoteAddress: String) throws -> GatewayPrincipal

    /// The deployment `deployment` of tenant `tenantID`, or nil when it does not exist (for this
    /// tenant). Bump `DeploymentRoute.generation` whenever anything in the route changes.
    func route(tenantID: String, deployment: String) -> DeploymentRoute?
}

/// A credential as the caller presented it, parsed from the request headers.
public enum GatewayCredential: Sendable, Hashable {
    /// `plk_<id>_<secret>` from `Authorization: Bearer …` or `X-API-Key: …`.
    case apiKey(id: String, secret: String)
    /// Any other `Authorization: Bearer <token>` (a JWT issued by the control plane's login).
    case bearer(token: String)
    /// `Authorization: Basic …`, decoded.
    case basic(user: String, password: String)
}

/// Who is calling, after authentication.
public struct GatewayPrincipal: Sendable, Hashable {
    public var tenantID: String
    public var tenantName: String
    /// The API key's id when the caller used one (metering and per-key rate limits).
    public var keyID: String?
    /// User name or key name, for logs.
    public var subject: String
    /// The caller's role in the tenant (e.g. "owner", "developer", "viewer").
    public var role: String
    /// Deployment names the credential may call; nil = every deployment of the tenant.
    public var deploymentScope: [String]?
    /// Tenant-wide request rate limit (token bucket, burst = 1 s worth, at least 1); nil = unlimited.
    public var tenantRequestsPerSecond: Double?
    /// Per-API-key request rate limit; nil = unlimited.
    public var keyRequestsPerSecond: Double?

    public init(
        tenantID: String, tenantName: String, keyID: String? = nil, subject: String, role: String,
        deploymentScope: [String]? = nil, tenantRequestsPerSecond: Double? = nil, keyRequestsPerSecond: Double? = nil
    ) {
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.keyID = keyID
        self.subject = subject
        self.role = role
        self.deploymentScope = deploymentScope
        self.tenantRequestsPerSecond = tenantRequestsPerSecond
        self.keyRequestsPerSecond = keyRequestsPerSecond
    }

    /// Whether the credential's scope covers `deployment`.
    public func mayCall(_ deployment: String) -> Bool {
        guard let scope = deploymentScope else { return true }
        return scope.contains(deployment)
    }
}

/// Why authentication failed; the gateway maps each case to one HTTP answer.
public enum GatewayAuthError: Error, Sendable, Equatable {
    /// No credential at all → 401 with `WWW-Authenticate`.
    case missing
    /// Unknown key, wrong secret or password, bad or expired token → 401.
    case invalid
    /// Authenticated but not allowed to invoke (e.g. a viewer) → 403.
    case forbidden(String)
    /// The tenant (or user) is suspended → 403.
    case suspended
    /// Too many failed attempts from this client; retry after this many seconds → 429.
    case throttled(retryAfter: Int)
}

/// Where a deployment's traffic goes.
public struct DeploymentRoute: Sendable {
    /// The deployment's name as callers use it in `/v2/models/{name}`.
    public var name: String
    /// Versions receiving live traffic, split by `VersionRoute.weight`.
    public var versions: [VersionRoute]
    /// A version that gets a mirrored copy of each request; its answers are discarded.
    public var shadow: VersionRoute?
    /// Share of requests mirrored to `shadow`, 0–100, sampled per request id.
    public var shadowPercent: Double
    /// Sampled request/response logging; nil means off.
    public var payloadLogging: PayloadLoggingPolicy?
    /// Longest time a request may take, queueing included → 504 past it.
    public var requestTimeout: Duration
    /// Largest request body → 413 past it.
    public var maxPayloadBytes: Int
    /// Requests forwarded at once to this deployment; more wait in the queue.
    public var maxConcurrency: Int
    /// Requests allowed to wait; more → 503 + Retry-After.
    public var maxQueue: Int
    /// Changes whenever anything above changes (the gateway rebuilds its per-deployment state then).
    public var generation: Int

    public init(
        name: String, versions: [VersionRoute], shadow: VersionRoute? = nil, requestTimeout: Duration = .seconds(30),
        maxPayloadBytes: Int = 8 << 20, maxConcurrency: Int = 64, maxQueue: Int = 256, generation: Int = 0,
        shadowPercent: Double = 100, payloadLogging: PayloadLoggingPolicy? = nil
    ) {
        self.name = name
        self.versions = versions
        self.shadow = shadow
        self.requestTimeout = requestTimeout
        self.maxPayloadBytes = maxPayloadBytes
        self.maxConcurrency = maxConcurrency
        self.maxQueue = maxQueue
        self.generation = generation
        self.shadowPercent = shadowPercent
        self.payloadLogging = payloadLogging
    }
}

/// One version of a deployment and the replicas serving it.
public struct VersionRoute: Sendable {
    /// The version label callers see (`Plinth-Model-Version`, `/versions/{v}`).
    public var version: String
    /// Share of live traffic relative to the other versions' weights; 0 = none (still callable by version).
    public var weight: Int
    public var replicas: [ReplicaEndpoint]
    /// The model name the runtime serves; the forwarded path is `/v2/models/{modelName}/infer`.
    public var modelName: String { didSet { inferPath = ForwardedRequest.inferPath(modelName) } }
    /// Built once here rather than per forwarded request.
    public private(set) var inferPath: String

    public init(version: String, weight: Int, replicas: [ReplicaEndpoint], modelName: String) {
        self.version = version
        self.weight = weight
        self.replicas = replicas
        self.modelName = modelName
        self.inferPath = ForwardedRequest.inferPath(modelName)
    }
}

/// One runtime process serving a version.
public struct ReplicaEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var id: String
    /// The replica's Unix socket, or the data-plane forwarder of the worker that runs it.
    public var endpoint: HTTPEndpoint
    /// Only ready replicas receive traffic.
    public var ready: Bool
    /// For a replica behind a worker's forwarder: the secret that forwarder accepts. Never logged.
    public var dataSecret: String?
    /// The replica answers pipelined requests side by side (`plinth runtime` does): the gateway
    /// then sends a round's requests to it on one socket, in one write.
    public var pipelined: Bool

    public init(id: String, endpoint: HTTPEndpoint, ready: Bool, dataSecret: String? = nil, pipelined: Bool = false) {
        self.id = id
        self.endpoint = endpoint
        self.ready = ready
        self.dataSecret = dataSecret
        self.pipelined = pipelined
    }

    /// The secret stays out of logs and fingerprints.
    public var description: String {
        "\(id)@\(endpoint)" + (dataSecret == nil ? "" : " (forwarded)")
    }
}
