import PlinthCore
import PlinthHTTP

/// What one request has accumulated for its usage event.
struct UsageMeter: Sendable {
    let tenantID: String
    let tenantName: String
    let apiKeyID: String
    let deployment: String
    let start: UInt64
    let bytesIn: Int
    let requestID: String
    var version = ""
    /// Wait in the gateway's admission queue.
    var gatewayQueueMicros: Int64 = 0
    /// The runtime's own queueing (its batcher), from `Plinth-Queue-Us`.
    var runtimeQueueMicros: Int64 = 0
    /// From `Plinth-Compute-Us`.
    var computeMicros: Int64 = 0
    /// Rows (examples) of this request, from `Plinth-Request-Rows`; 1 when the runtime does not
    /// say. This is the usage event's `batchSize`: what the caller sent, whatever it was merged with.
    var requestRows = 1
    /// Rows of the model run that served it (the runtime's dynamic batch, this request's rows plus
    /// those it was merged with), from `Plinth-Batch-Size`; 0 when the runtime does not say.
    var runtimeBatchRows = 0

    init(principal: GatewayPrincipal, deployment: String, start: UInt64, bytesIn: Int, requestID: String) {
        self.tenantID = principal.tenantID
        self.tenantName = principal.tenantName
        self.apiKeyID = principal.keyID ?? ""
        self.deployment = deployment
        self.start = start
        self.bytesIn = bytesIn
        self.requestID = requestID
    }

    /// Reads the runtime's timing headers; malformed or absent values count as unknown.
    mutating func absorbRuntimeHeaders(_ headers: HTTPHeaders) {
        // One pass over the answer's fields (four lookups scanned them four times).
        for (name, value) in headers {
            if HTTPHeaders.equalsIgnoringCase(name, "Plinth-Queue-Us") {
                if let v = HTTPHeaders.decimalValue(value) { runtimeQueueMicros = Int64(v) }
            } else if HTTPHeaders.equalsIgnoringCase(name, "Plinth-Compute-Us") {
                if let v = HTTPHeaders.decimalValue(value) { computeMicros = Int64(v) }
            } else if HTTPHeaders.equalsIgnoringCase(name, "Plinth-Request-Rows") {
                if let v = HTTPHeaders.decimalValue(value), v > 0 { requestRows = v }
            } else if HTTPHeaders.equalsIgnoringCase(name, "Plinth-Batch-Size") {
                if let v = HTTPHeaders.decimalValue(value), v > 0 { runtimeBatchRows = v }
            }
        }
    }

    var queueMicros: Int64 { gatewayQueueMicros + runtimeQueueMicros }

    func latencyMicros(end: UInt64) -> Int64 { Int64((end &- start) / 1_000) }

    func event(status: Int, end: UInt64, bytesOut: Int, shadow: Bool = false) -> UsageEvent {
        UsageEvent(
            requestID: requestID, tenantID: tenantID, apiKeyID: apiKeyID, deployment: deployment, version: version,
            status: status, latencyMicros: latencyMicros(end: end), queueMicros: queueMicros,
            computeMicros: computeMicros, bytesIn: Int64(bytesIn), bytesOut: Int64(bytesOut), batchSize: requestRows,
            shadow: shadow, timestampMicros: GatewayClock.wallMicros())
    }
}
