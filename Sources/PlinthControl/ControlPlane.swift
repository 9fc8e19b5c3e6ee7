import Foundation
import PlinthCore
import PlinthCrypto
import PlinthHTTP
import PlinthStore
import Synchronization

/// The control plane: identity, tenants, the model registry and deployments behind the /v1 REST API.
/// Owns `<data>/plinth.db`, `<data>/jwt.key` and `<data>/blobs/`.
public final class ControlPlane: Sendable {
    /// The database; other roles in the same process (worker registry, metering) may share it.
    public let store: Store
    let configuration: ControlPlaneConfiguration
    let authenticator: Authenticator
    let blobs: BlobStore
    /// Workers, placements and desired states (see Workers/ and Scheduling/).
    let cluster: Cluster
    let logger = Logger(component: "control")
    /// Bumped after every successful change; tags routing snapshots.
    private let generation: Atomic<Int64>
    private let stateCache = Mutex<ControlState?>(nil)

    /// Opens (creating when needed) the data directory and database, migrates, creates the JWT key
    /// and, on an empty database, the `admin` user.
    public init(configuration: ControlPlaneConfiguration) throws {
        self.configuration = configuration
        let data = configuration.dataDirectory
        do {
            // Only the server's user may read hashes, keys and tenants' artifacts.
            try FileManager.default.createDirectory(
                atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ControlPlaneError.dataDirectory("cannot create \(data): \(error)")
        }
        store = try Store(path: data + "/plinth.db")
        try store.migrate(ControlSchema.migrations)
        let keyring = try JWTKeyring.loadOrCreate(path: data + "/jwt.key")
        authenticator = Authenticator(store: store, keyring: keyring, configuration: configuration)
        blobs = try BlobStore(root: data + "/blobs")
        cluster = Cluster(settings: configuration.workers)
        generation = Atomic(Int64(Date().timeIntervalSince1970 * 1000))
        try bootstrapAdmin()
        try blobs.collectGarbage(store: store)
        startKeyUsageFlusher()
    }

    /// Writes batched API key uses every flush interval, so they land even when traffic stops.
    /// The thread holds the plane weakly and ends once the plane is gone.
    private func startKeyUsageFlusher() {
        let interval = configuration.keyUsageFlushInterval
        let ticks = max(1, Int(interval.components.seconds))
        Thread.detachNewThread { [weak self] in
            var elapsed = 0
            while true {
                sleep(1)
                guard let plane = self else { return }
                elapsed += 1
                if elapsed >= ticks {
                    elapsed = 0
                    plane.flush()
                }
            }
        }
    }

    private func bootstrapAdmin() throws {
        let hasUsers = try store.read { db in try db.queryOne("SELECT 1 AS one FROM users LIMIT 1") != nil }
        guard !hasUsers else { return }
        let environment = ProcessInfo.processInfo.environment["PLINTH_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        let given = configuration.adminPassword ?? environment
        let password = given ?? SecureRandom.token(18)
        let hash = authenticator.hasher.hash(password)
        let now = Authenticator.now()
        // Checked again inside the transaction: two processes starting at once create one admin.
        let created: Bool = try store.write { db in
            guard try db.queryOne("SELECT 1 AS one FROM users LIMIT 1") == nil else { return false }
            try db.execute(
                """
                INSERT INTO users (username, tenant, role, password_hash, created_at, updated_at)
                VALUES ('admin', NULL, 'admin', ?, ?, ?)
                """, hash, now, now)
            return true
        }
        guard created else { return }
        if given == nil {
            configuration.bootstrapOutput(
                "plinth: created platform admin 'admin' with password \(password) (shown once; change it with POST /v1/auth/password)"
            )
        }
        logger.info("bootstrap admin created", ["username": "admin"])
    }

    /// Registers every /v1 route on `router`.
    public func register(on router: Router) {
        for route in routeDefinitions() {
            router.add(route.method, route.pattern, options: route.options) { [self] request in
                try self.run(route, request)
            }
        }
    }

    /// The full route table (also the source of the OpenAPI document).
    func routeDefinitions() -> [RouteDefinition] {
        authRoutes() + tenantRoutes() + userRoutes() + keyRoutes() + modelRoutes() + versionRoutes()
            + instanceClassRoutes() + deploymentRoutes() + payloadRoutes() + replicaLogRoutes() + auditRoutes() + usageRoutes()
            + metaRoutes() + workerRoutes()
    }

    /// Authenticates a request the way the /v1 API does (Basic, Bearer JWT, API key), for other
    /// front doors in the same process. Throws HTTPError (401, 403 for a suspended tenant, 429).
    public func authenticate(_ request: HTTPRequest) throws -> Principal {
        do {
            return try authenticator.authenticate(request, index: try currentState().identity)
        } catch let error as ControlError {
            throw error.httpError
        }
    }

    /// Resolves a credential from memory (no database read; Basic checks are cached and
    /// throttled before hashing), for the prediction gateway's directory. API key uses are
    /// recorded for last_used_at in batches.
    public func identify(_ credential: PresentedCredential, remoteAddress: String) throws(IdentityError) -> Principal {
        do {
            let index = try currentState().identity
            return try authenticator.authenticate(
                credential, address: Authenticator.host(of: remoteAddress), index: index)
        } catch let error as ControlError {
            switch error {
            case .throttled(let seconds): throw .throttled(retryAfter: seconds)
            case .forbidden: throw .suspended
            case .unauthenticated(let why): throw .invalid(why)
            default: throw .invalid("credential rejected")
            }
        } catch {
            logger.error("identity index unavailable", ["error": .string(String(describing: error))])
            throw .invalid("credential could not be checked")
        }
    }

    /// Notes that the gateway accepted API key `id` (last_used_at is written in batches).
    public func recordAPIKeyUse(id: String) {
        authenticator.keyUsage.touch(id, store: store)
    }

    /// Writes pending API key last-used times now (on shutdown).
    public func flush() {
        authenticator.keyUsage.flush(store: store)
    }

    /// Marks routing data as changed; the next snapshot is rebuilt.
    func bumpGeneration() {
        generation.add(1, ordering: .sequentiallyConsistent)
    }

    /// The current routing snapshot; cheap when nothing changed since the last call.
    public func routingSnapshot() -> RoutingSnapshot {
        do {
            return try currentState().snapshot
        } catch {
            logger.error("routing snapshot failed", ["error": .string(String(describing: error))])
            return stateCache.withLock { $0?.snapshot } ?? RoutingSnapshot(version: 0)
        }
    }

    /// Snapshot and identity index for the current generation, rebuilt after a change.
    func currentState() throws -> ControlState {
        let current = generation.load(ordering: .sequentiallyConsistent)
        if let cached = stateCache.withLock({ $0 }), cached.snapshot.version == current { return cached }
        let state = try buildState(version: current)
        stateCache.withLock { cache in
            if (cache?.snapshot.version ?? Int64.min) < state.snapshot.version { cache = state }
        }
        return state
    }
}

/// What authentication and routing read on every request, built from one database snapshot.
struct ControlState: Sendable {
    var snapshot: RoutingSnapshot
    var identity: IdentityIndex
}
