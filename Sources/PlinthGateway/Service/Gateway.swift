import PlinthCore
import PlinthHTTP
import Synchronization

/// The prediction front door: the Open Inference Protocol v2 routes on the public listener.
///
/// Per request: parse the credential, authenticate (cached ≤ `credentialCacheTTL`), resolve the
/// caller's tenant + deployment (another tenant's deployment, an unknown one or one outside the
/// key's scope is a 404), rate-limit per key and per tenant (429), admit into the deployment's
/// concurrency cap + bounded queue (503 when full), pick a version (weighted, sticky on
/// `Plinth-Routing-Key`) and a replica (least outstanding), forward the body bytes untouched,
/// meter exactly once, mirror to a shadow version off the caller's path.
public final class Gateway: Sendable {
    let configuration: GatewayConfiguration
    let directory: any GatewayDirectory
    let journal: UsageJournal?
    let metrics: GatewayMetrics
    let principals: PrincipalCache
    let clients: ReplicaClients
    let deployments: DeploymentTable
    let rateLimiter: RateLimiter
    let shadows: ShadowMirror
    /// Sampled request/response pairs; nil without `payloadLogDirectory`.
    let payloads: PayloadRecorder?
    let logger = Logger(component: "gateway")

    /// - Parameters:
    ///   - journal: where usage events go (exactly one per metered request, written before the
    ///     response is handed back); nil meters nothing (tests, benchmarks).
    ///   - metrics: the Prometheus registry `GET /metrics` renders; the gateway registers its
    ///     series in it.
    public init(
        configuration: GatewayConfiguration, directory: any GatewayDirectory, journal: UsageJournal?,
        metrics: MetricsRegistry
    ) {
        self.configuration = configuration
        self.directory = directory
        self.journal = journal
        self.metrics = GatewayMetrics(registry: metrics)
        self.principals = PrincipalCache(ttl: configuration.credentialCacheTTL)
        self.clients = ReplicaClients(
            connectTimeout: configuration.connectTimeout,
            maxIdleConnectionsPerEndpoint: configuration.maxIdleConnectionsPerReplica)
        self.deployments = DeploymentTable(ejection: configuration.replicaEjection, clients: clients)
        self.rateLimiter = RateLimiter()
        self.shadows = ShadowMirror(
            capacity: configuration.shadowQueueCapacity, workers: configuration.shadowWorkers)
        payloads = configuration.payloadLogDirectory.map {
            PayloadRecorder(
                root: $0, capacity: configuration.payloadQueueCapacity,
                maxQueuedBytes: configuration.payloadQueueMaxBytes, metrics: metrics)
        }
        shadows.start(self)
        payloads?.start()
    }

    /// Adds the gateway's routes: `GET /v2`, model metadata and readiness (with and without a
    /// version), `POST …/infer` and `GET /metrics`. The health routes are the executable's.
    public func register(on router: Router) {
        let small = RouteOptions()
        router.add(.GET, "/v2", options: RouteOptions(runsOnEventLoop: true)) { [self] _ in serverMetadata() }
        router.add(.GET, "/v2/models/{deployment}", options: small) { [self] in try modelMetadata($0) }
        router.add(.GET, "/v2/models/{deployment}/versions/{version}", options: small) { [self] in
            try modelMetadata($0)
        }
        router.add(.GET, "/v2/models/{deployment}/ready", options: small) { [self] in try modelReady($0) }
        router.add(.GET, "/v2/models/{deployment}/versions/{version}/ready", options: small) { [self] in
            try modelReady($0)
        }
        let inferOptions = RouteOptions(maxBodyBytes: configuration.maxPayloadBytes)
        // On the event loop: forwarded without a thread hop (see `inferAsync`).
        router.addAsync(.POST, "/v2/models/{deployment}/infer", options: inferOptions) { [self] in
            inferAsync($0, $1)
        }
        router.addAsync(.POST, "/v2/models/{deployment}/versions/{version}/infer", options: inferOptions) { [self] in
            inferAsync($0, $1)
        }
        router.add(.GET, "/metrics", options: small) { [self] in try metricsPage($0) }
    }

    /// Stops the shadow workers (pending copies are dropped) and the payload writer (queued
    /// records are written first). Idempotent.
    public func shutdown() {
        shadows.stop()
        payloads?.stop()
    }
}
