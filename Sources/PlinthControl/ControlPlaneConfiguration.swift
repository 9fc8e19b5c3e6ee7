import PlinthCore

/// Settings of the control plane. Defaults are production values; tests lower the PBKDF2 cost.
public struct ControlPlaneConfiguration: Sendable {
    /// Folder holding plinth.db, jwt.key and blobs/. Created when missing.
    public var dataDirectory: String
    /// The bootstrap admin's password on first start; nil → `PLINTH_ADMIN_PASSWORD`, else a random one
    /// printed once to stdout.
    public var adminPassword: String?
    /// Lifetime of tokens from POST /v1/auth/token.
    public var tokenLifetime: Duration
    /// PBKDF2-HMAC-SHA256 iterations for new password hashes. Never below 600 000 outside tests.
    public var passwordIterations: Int
    /// How long a verified HTTP Basic credential is remembered (keyed by SHA-256 of the header).
    public var basicCredentialCacheLifetime: Duration
    /// Failed logins allowed per username before it is locked for `loginLockout`.
    public var maxFailedLoginsPerUser: Int
    /// Failed logins allowed per client address before it is locked for `loginLockout`.
    public var maxFailedLoginsPerAddress: Int
    /// Lockout length after too many failures.
    public var loginLockout: Duration
    /// How often API keys' last_used_at is written (batched; never a write per request).
    public var keyUsageFlushInterval: Duration
    /// Largest accepted artifact upload.
    public var maxArtifactBytes: Int
    /// Checks an uploaded artifact and returns its signature; a thrown error marks the version failed
    /// and its description is returned to the client (422). The control plane must not import the
    /// engine, so `plinth serve` wires this. Nil: every upload is accepted as-is.
    public var artifactValidator: (@Sendable (_ path: String, _ format: String) throws -> ArtifactSignature)?
    /// Heartbeat interval and missing-worker grace period.
    public var workers = WorkerSettings()
    /// Told about each replica cold start a worker reports (metrics); called off the request path,
    /// outside the control plane's locks.
    public var replicaColdStartObserver: (@Sendable (ReplicaColdStart) -> Void)?
    /// Where the one-time bootstrap password is printed; stdout by default.
    public var bootstrapOutput: @Sendable (String) -> Void

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
        self.adminPassword = nil
        self.tokenLifetime = .seconds(15 * 60)
        self.passwordIterations = 600_000
        self.basicCredentialCacheLifetime = .seconds(60)
        self.maxFailedLoginsPerUser = 5
        self.maxFailedLoginsPerAddress = 20
        self.loginLockout = .seconds(60)
        self.keyUsageFlushInterval = .seconds(5)
        self.maxArtifactBytes = 16 << 30
        self.artifactValidator = nil
        self.replicaColdStartObserver = nil
        self.bootstrapOutput = { line in print(line) }
    }
}
