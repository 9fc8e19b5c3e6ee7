/// One metered request, as the gateway records it when the response goes out.
///
/// Exactly one event per request (shadow copies are separate events with `shadow == true`).
/// Identifiers are the platform's string ids; durations are microseconds, sizes bytes.
public struct UsageEvent: Sendable, Equatable {
    /// The request id (also sent to the caller), unique per request.
    public var requestID: String
    public var tenantID: String
    /// The API key that authenticated the call ("" for other credentials).
    public var apiKeyID: String
    public var deployment: String
    /// The model version that served it.
    public var version: String
    /// HTTP status sent to the caller.
    public var status: Int
    /// Wall time from request head to response end.
    public var latencyMicros: Int64
    /// Time spent waiting for admission (queue) before forwarding.
    public var queueMicros: Int64
    /// Time the runtime spent computing, as it reported.
    public var computeMicros: Int64
    public var bytesIn: Int64
    public var bytesOut: Int64
    /// Number of examples in the request (batch dimension), 1 when unknown.
    public var batchSize: Int
    /// True for a shadow (mirrored) request whose answer the caller never saw.
    public var shadow: Bool
    /// When the response went out, microseconds since the Unix epoch.
    public var timestampMicros: Int64

    public init(
        requestID: String, tenantID: String, apiKeyID: String, deployment: String, version: String,
        status: Int, latencyMicros: Int64, queueMicros: Int64, computeMicros: Int64,
        bytesIn: Int64, bytesOut: Int64, batchSize: Int, shadow: Bool, timestampMicros: Int64
    ) {
        self.requestID = requestID
        self.tenantID = tenantID
        self.apiKeyID = apiKeyID
        self.deployment = deployment
        self.version = version
        self.status = status
        self.latencyMicros = latencyMicros
        self.queueMicros = queueMicros
        self.computeMicros = computeMicros
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.batchSize = batchSize
        self.shadow = shadow
        self.timestampMicros = timestampMicros
    }

    /// The Unix minute (seconds / 60) the event falls in.
    public var minute: Int64 {
        // Floor division, so pre-1970 timestamps (never expected) still land in one minute.
        let perMinute: Int64 = 60_000_000
        return timestampMicros >= 0 ? timestampMicros / perMinute : (timestampMicros - perMinute + 1) / perMinute
    }
}
