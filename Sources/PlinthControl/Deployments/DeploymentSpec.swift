/// The declarative body of PUT /v1/tenants/{tenant}/deployments/{name}; each accepted change is
/// kept as a revision.
struct DeploymentSpec: Codable, Sendable, Equatable {
    /// A model version that takes a share of the traffic.
    struct WeightedVersion: Codable, Sendable, Equatable {
        var model: String
        var version: String
        /// Relative weight; the weights of a deployment must sum to more than 0.
        var weight: Int?
    }

    /// A version that receives a copy of the traffic; its answers are discarded.
    struct ShadowVersion: Codable, Sendable, Equatable {
        var model: String
        var version: String
        /// Share of requests mirrored, 0–100 (default 100); sampled per request id.
        var percent: Double?
    }

    /// Sampled request/response pairs written to `<data>/payloads/<tenant>/<deployment>/`.
    struct PayloadLogging: Codable, Sendable, Equatable {
        /// Fraction of requests logged, 0.0–1.0 (0 = off).
        var sampleRate: Double
        /// Files older than this are deleted (default 168 = 7 days).
        var retentionHours: Int?
        /// The deployment's files are kept under this size, oldest deleted first (default 256).
        var maxMegabytes: Int?
    }

    struct Batching: Codable, Sendable, Equatable {
        var maxBatchSize: Int?
        var maxQueueDelayMicros: Int?
    }

    struct Autoscaling: Codable, Sendable, Equatable {
        /// Concurrent requests per replica the autoscaler aims for.
        var targetConcurrency: Int?
    }

    var versions: [WeightedVersion]
    var shadow: ShadowVersion?
    var instanceClass: String
    var minReplicas: Int?
    var maxReplicas: Int?
    var batching: Batching?
    var requestTimeoutMillis: Int?
    var maxPayloadBytes: Int?
    var autoscaling: Autoscaling?
    var payloadLogging: PayloadLogging?
    var labels: [String: String]?

    static let defaultMaxBatchSize = 1
    static let defaultQueueDelayMicros = 0
    static let defaultTimeoutMillis = 30_000
    static let defaultMaxPayloadBytes = 16 << 20
    static let defaultTargetConcurrency = 4
    static let defaultPayloadRetentionHours = 168
    static let defaultPayloadMaxMegabytes = 256

    /// The same spec with every default written out, so revisions show what was in force.
    func normalized() -> DeploymentSpec {
        var spec = self
        spec.versions = versions.map { WeightedVersion(model: $0.model, version: $0.version, weight: $0.weight ?? 1) }
        spec.minReplicas = minReplicas ?? 1
        spec.maxReplicas = maxReplicas ?? max(1, spec.minReplicas ?? 1)
        spec.batching = Batching(
            maxBatchSize: batching?.maxBatchSize ?? Self.defaultMaxBatchSize,
            maxQueueDelayMicros: batching?.maxQueueDelayMicros ?? Self.defaultQueueDelayMicros)
        spec.requestTimeoutMillis = requestTimeoutMillis ?? Self.defaultTimeoutMillis
        spec.maxPayloadBytes = maxPayloadBytes ?? Self.defaultMaxPayloadBytes
        spec.autoscaling = Autoscaling(
            targetConcurrency: autoscaling?.targetConcurrency ?? Self.defaultTargetConcurrency)
        if let shadow {
            spec.shadow = ShadowVersion(model: shadow.model, version: shadow.version, percent: shadow.percent ?? 100)
        }
        if let logging = payloadLogging {
            spec.payloadLogging = PayloadLogging(
                sampleRate: logging.sampleRate,
                retentionHours: logging.retentionHours ?? Self.defaultPayloadRetentionHours,
                maxMegabytes: logging.maxMegabytes ?? Self.defaultPayloadMaxMegabytes)
        }
        spec.labels = labels ?? [:]
        return spec
    }

    /// Checks what can be checked without the database; throws `invalid(field:)` naming the field.
    func validateShape() throws {
        guard !versions.isEmpty else { throw ControlError.invalid(field: "versions", message: "at least one version") }
        guard versions.count <= 16 else {
            throw ControlError.invalid(field: "versions", message: "at most 16 versions")
        }
        var seen = Set<String>()
        var total = 0
        for (i, v) in versions.enumerated() {
            guard Validation.isDNSLabel(v.model) else {
                throw ControlError.invalid(field: "versions[\(i)].model", message: "not a model name")
            }
            guard Validation.isVersionLabel(v.version) else {
                throw ControlError.invalid(field: "versions[\(i)].version", message: "not a version label")
            }
            guard seen.insert(v.model + "/" + v.version).inserted else {
                throw ControlError.invalid(field: "versions[\(i)]", message: "listed twice")
            }
            let weight = v.weight ?? 1
            guard (0...1_000_000).contains(weight) else {
                throw ControlError.invalid(field: "versions[\(i)].weight", message: "must be 0 to 1000000")
            }
            total += weight
        }
        guard total > 0 else {
            throw ControlError.invalid(field: "versions", message: "weights must sum to more than 0")
        }
        if let shadow {
            guard Validation.isDNSLabel(shadow.model), Validation.isVersionLabel(shadow.version) else {
                throw ControlError.invalid(field: "shadow", message: "not a model version")
            }
            guard !seen.contains(shadow.model + "/" + shadow.version) else {
                throw ControlError.invalid(field: "shadow", message: "already takes traffic")
            }
            if let percent = shadow.percent, !(percent.isFinite && (0...100).contains(percent)) {
                throw ControlError.invalid(field: "shadow.percent", message: "must be 0 to 100")
            }
        }
        if let logging = payloadLogging {
            guard logging.sampleRate.isFinite, (0...1).contains(logging.sampleRate) else {
                throw ControlError.invalid(field: "payloadLogging.sampleRate", message: "must be 0.0 to 1.0")
            }
            if let hours = logging.retentionHours, !(1...8760).contains(hours) {
                throw ControlError.invalid(field: "payloadLogging.retentionHours", message: "must be 1 to 8760")
            }
            if let megabytes = logging.maxMegabytes, !(1...1_048_576).contains(megabytes) {
                throw ControlError.invalid(field: "payloadLogging.maxMegabytes", message: "must be 1 to 1048576")
            }
        }
        guard Validation.isDNSLabel(instanceClass) else {
            throw ControlError.invalid(field: "instanceClass", message: "not an instance class name")
        }
        let minimum = minReplicas ?? 1
        guard (0...1000).contains(minimum) else {
            throw ControlError.invalid(field: "minReplicas", message: "must be 0 to 1000")
        }
        if let maximum = maxReplicas {
            guard (1...1000).contains(maximum) else {
                throw ControlError.invalid(field: "maxReplicas", message: "must be 1 to 1000")
            }
            guard maximum >= minimum else {
                throw ControlError.invalid(field: "maxReplicas", message: "must be at least minReplicas")
            }
        }
        if let size = batching?.maxBatchSize, !(1...4096).contains(size) {
            throw ControlError.invalid(field: "batching.maxBatchSize", message: "must be 1 to 4096")
        }
        if let delay = batching?.maxQueueDelayMicros, !(0...10_000_000).contains(delay) {
            throw ControlError.invalid(field: "batching.maxQueueDelayMicros", message: "must be 0 to 10000000")
        }
        if let timeout = requestTimeoutMillis, !(1...3_600_000).contains(timeout) {
            throw ControlError.invalid(field: "requestTimeoutMillis", message: "must be 1 to 3600000")
        }
        if let payload = maxPayloadBytes, !(1...(1 << 30)).contains(payload) {
            throw ControlError.invalid(field: "maxPayloadBytes", message: "must be 1 to 1073741824")
        }
        if let target = autoscaling?.targetConcurrency, !(1...10_000).contains(target) {
            throw ControlError.invalid(field: "autoscaling.targetConcurrency", message: "must be 1 to 10000")
        }
        try Validation.checkLabels(labels)
    }

    /// Every model version the spec refers to, shadow included.
    var referencedVersions: [(model: String, version: String)] {
        versions.map { ($0.model, $0.version) } + (shadow.map { [($0.model, $0.version)] } ?? [])
    }
}
