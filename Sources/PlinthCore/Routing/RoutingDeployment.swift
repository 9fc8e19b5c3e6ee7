/// One deployment's current revision, resolved to artifacts, as the gateway and scheduler see it.
public struct RoutingDeployment: Sendable, Codable, Hashable {
    public var tenant: String
    public var name: String
    /// The deployment revision this describes (1, 2, ...).
    public var revision: Int
    /// Versions that take traffic, with relative weights (sum > 0).
    public var versions: [RoutingVersion]
    /// A version that gets a copy of each request; its answers are dropped.
    public var shadow: RoutingVersion?
    /// Share of requests mirrored to `shadow`, 0–100; nil means 100.
    public var shadowPercent: Double?
    /// Sampled request/response logging; nil means off.
    public var payloadLogging: PayloadLoggingPolicy?
    public var instanceClass: String
    public var minReplicas: Int
    public var maxReplicas: Int
    public var maxBatchSize: Int
    public var maxQueueDelayMicros: Int
    public var requestTimeoutMillis: Int
    public var maxPayloadBytes: Int
    /// Autoscaling target: concurrent requests per replica.
    public var targetConcurrency: Int

    public init(
        tenant: String, name: String, revision: Int, versions: [RoutingVersion], shadow: RoutingVersion?,
        instanceClass: String, minReplicas: Int, maxReplicas: Int, maxBatchSize: Int, maxQueueDelayMicros: Int,
        requestTimeoutMillis: Int, maxPayloadBytes: Int, targetConcurrency: Int, shadowPercent: Double? = nil,
        payloadLogging: PayloadLoggingPolicy? = nil
    ) {
        self.tenant = tenant
        self.name = name
        self.revision = revision
        self.versions = versions
        self.shadow = shadow
        self.instanceClass = instanceClass
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.maxBatchSize = maxBatchSize
        self.maxQueueDelayMicros = maxQueueDelayMicros
        self.requestTimeoutMillis = requestTimeoutMillis
        self.maxPayloadBytes = maxPayloadBytes
        self.targetConcurrency = targetConcurrency
        self.shadowPercent = shadowPercent
        self.payloadLogging = payloadLogging
    }
}

/// A model version inside a deployment: which artifact, in which format, with what weight.
public struct RoutingVersion: Sendable, Codable, Hashable {
    public var model: String
    public var version: String
    /// Relative traffic weight; 0 for a shadow.
    public var weight: Int
    /// "onnx" or "external".
    public var format: String
    /// Hex SHA-256 of the artifact.
    public var sha256: String
    /// Absolute path of the content-addressed artifact file.
    public var artifactPath: String
    public var signature: ArtifactSignature?
    /// How to run an `external` version; nil for `onnx`.
    public var runtime: RuntimeManifest?

    public init(
        model: String, version: String, weight: Int, format: String, sha256: String, artifactPath: String,
        signature: ArtifactSignature?, runtime: RuntimeManifest? = nil
    ) {
        self.model = model
        self.version = version
        self.weight = weight
        self.format = format
        self.sha256 = sha256
        self.artifactPath = artifactPath
        self.signature = signature
        self.runtime = runtime
    }
}
