/// What usage is summed by: one row of the per-minute usage table.
public struct UsageMinuteKey: Sendable, Hashable {
    /// Unix minute (seconds since the epoch / 60).
    public var minute: Int64
    public var tenantID: String
    public var apiKeyID: String
    public var deployment: String
    public var version: String
    public var shadow: Bool

    public init(minute: Int64, tenantID: String, apiKeyID: String, deployment: String, version: String, shadow: Bool) {
        self.minute = minute
        self.tenantID = tenantID
        self.apiKeyID = apiKeyID
        self.deployment = deployment
        self.version = version
        self.shadow = shadow
    }

    /// The key an event is counted under.
    public init(_ event: UsageEvent) {
        self.init(
            minute: event.minute, tenantID: event.tenantID, apiKeyID: event.apiKeyID,
            deployment: event.deployment, version: event.version, shadow: event.shadow)
    }
}

/// Sums over the events of one `UsageMinuteKey`. Adding is associative, so deltas fold into
/// stored rows with plain `+=` (SQL `UPDATE … SET requests = requests + ?`).
public struct UsageTotals: Sendable, Equatable {
    public var requests: Int64 = 0
    /// Status 200–399.
    public var succeeded: Int64 = 0
    /// Status 400–499.
    public var clientErrors: Int64 = 0
    /// Status 500–599 (and anything else).
    public var serverErrors: Int64 = 0
    public var latencyMicros: Int64 = 0
    public var queueMicros: Int64 = 0
    public var computeMicros: Int64 = 0
    public var bytesIn: Int64 = 0
    public var bytesOut: Int64 = 0
    /// Sum of batch sizes: examples served.
    public var examples: Int64 = 0

    public init() {}

    /// Counts one event.
    public mutating func add(_ event: UsageEvent) {
        requests += 1
        switch event.status {
        case 200..<400: succeeded += 1
        case 400..<500: clientErrors += 1
        default: serverErrors += 1
        }
        latencyMicros &+= event.latencyMicros
        queueMicros &+= event.queueMicros
        computeMicros &+= event.computeMicros
        bytesIn &+= event.bytesIn
        bytesOut &+= event.bytesOut
        examples &+= Int64(event.batchSize)
    }

    /// Adds another set of totals (merging deltas).
    public mutating func add(_ other: UsageTotals) {
        requests &+= other.requests
        succeeded &+= other.succeeded
        clientErrors &+= other.clientErrors
        serverErrors &+= other.serverErrors
        latencyMicros &+= other.latencyMicros
        queueMicros &+= other.queueMicros
        computeMicros &+= other.computeMicros
        bytesIn &+= other.bytesIn
        bytesOut &+= other.bytesOut
        examples &+= other.examples
    }
}
