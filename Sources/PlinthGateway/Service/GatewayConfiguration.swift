/// Gateway settings; plain values with defaults, filled by the executable from flags.
public struct GatewayConfiguration: Sendable {
    /// Who may read `GET /metrics` on the public listener.
    public enum MetricsAccess: Sendable, Equatable {
        /// Anyone (only for a listener that is not reachable from outside).
        case open
        /// Only loopback and Unix-socket clients (default).
        case loopbackOnly
        /// Callers presenting `Authorization: Bearer <token>`.
        case bearer(token: String)
        /// Not served on the public listener.
        case disabled
    }

    /// Largest body any infer route accepts before a deployment is even resolved (the server's
    /// per-route cap); each deployment's own `maxPayloadBytes` is checked after routing.
    public var maxPayloadBytes: Int
    /// How long a resolved principal is reused without asking the directory (0 disables the cache).
    public var credentialCacheTTL: Duration
    /// How long a replica that refused a connection is left out of balancing.
    public var replicaEjection: Duration
    /// Connect timeout towards replicas.
    public var connectTimeout: Duration
    /// Idle keep-alive connections kept per replica endpoint.
    public var maxIdleConnectionsPerReplica: Int
    /// Shadow copies waiting to be sent; more are dropped (counted).
    public var shadowQueueCapacity: Int
    /// Threads sending shadow copies.
    public var shadowWorkers: Int
    /// Root of the payload log (`<data>/payloads`); nil turns payload logging off whatever the
    /// deployments ask for.
    public var payloadLogDirectory: String?
    /// Payload records waiting to be written, and their bytes; more are dropped (counted).
    public var payloadQueueCapacity: Int
    public var payloadQueueMaxBytes: Int
    /// Suggested wait (seconds) in `Retry-After` when a deployment's queue is full.
    public var overloadRetryAfterSeconds: Int
    public var metricsAccess: MetricsAccess
    /// Reported by `GET /v2`.
    public var serverName: String
    public var serverVersion: String

    public init(serverVersion: String = "0.0.0") {
        maxPayloadBytes = 64 << 20
        credentialCacheTTL = .seconds(1)
        replicaEjection = .seconds(2)
        connectTimeout = .seconds(2)
        maxIdleConnectionsPerReplica = 64
        shadowQueueCapacity = 256
        shadowWorkers = 2
        payloadLogDirectory = nil
        payloadQueueCapacity = 1024
        payloadQueueMaxBytes = 64 << 20
        overloadRetryAfterSeconds = 1
        metricsAccess = .loopbackOnly
        serverName = "plinth"
        self.serverVersion = serverVersion
    }
}
