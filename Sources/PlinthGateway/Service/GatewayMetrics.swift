/// The gateway's Prometheus series, registered in the shared `MetricsRegistry`:
///
/// - `plinth_gateway_requests_total{tenant,deployment,version,status}` (metered requests)
/// - `plinth_gateway_request_duration_seconds{tenant,deployment,phase}` histograms, phase
///   `queue` (gateway admission + runtime batcher), `compute` (runtime-reported), `total`
/// - `plinth_gateway_in_flight{tenant,deployment}`, `plinth_gateway_queue_depth{tenant,deployment}`
/// - `plinth_gateway_rate_limited_total{tenant,deployment}`, `plinth_gateway_overloaded_total{tenant,deployment}`
/// - `plinth_gateway_rejected_total{status}` (refused before a deployment was resolved: 401/403/404/429)
/// - `plinth_gateway_replica_ejections_total`, `plinth_gateway_shadow_total{outcome}`
///   (outcome: agree, disagree, failed, dropped)
final class GatewayMetrics: Sendable {
    let registry: MetricsRegistry
    private let requests: MetricFamily<Counter>
    private let durations: MetricFamily<Histogram>
    private let inFlightGauge: MetricFamily<Gauge>
    private let queueGauge: MetricFamily<Gauge>
    private let rateLimitedCounter: MetricFamily<Counter>
    private let overloadedCounter: MetricFamily<Counter>
    private let rejected: MetricFamily<Counter>
    private let ejections: Counter
    private let shadowOutcomes: MetricFamily<Counter>

    init(registry: MetricsRegistry) {
        self.registry = registry
        let buckets: [Double] = [
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
        ]
        requests = registry.counter(
            "plinth_gateway_requests_total", help: "Metered prediction requests by outcome.",
            labels: ["tenant", "deployment", "version", "status"])
        durations = registry.histogram(
            "plinth_gateway_request_duration_seconds", help: "Request time by phase: queue, compute, total.",
            labels: ["tenant", "deployment", "phase"], buckets: buckets)
        inFlightGauge = registry.gauge(
            "plinth_gateway_in_flight", help: "Requests being forwarded now.", labels: ["tenant", "deployment"])
        queueGauge = registry.gauge(
            "plinth_gateway_queue_depth", help: "Requests waiting for admission now.", labels: ["tenant", "deployment"])
        rateLimitedCounter = registry.counter(
            "plinth_gateway_rate_limited_total", help: "Requests refused by a key or tenant rate limit.",
            labels: ["tenant", "deployment"])
        overloadedCounter = registry.counter(
            "plinth_gateway_overloaded_total", help: "Requests refused because the deployment's queue was full.",
            labels: ["tenant", "deployment"])
        rejected = registry.counter(
            "plinth_gateway_rejected_total", help: "Requests refused before a deployment was resolved.",
            labels: ["status"])
        ejections = registry.counter(
            "plinth_gateway_replica_ejections_total", help: "Replicas left out after refusing a connection."
        ).labels([])
        shadowOutcomes = registry.counter(
            "plinth_gateway_shadow_total", help: "Shadow copies by outcome (agree, disagree, failed, dropped).",
            labels: ["outcome"])
    }

    func requestFinished(meter: UsageMeter, status: Int, end: UInt64) {
        requests.labels(meter.tenantName, meter.deployment, meter.version, String(status)).inc()
        durations.labels(meter.tenantName, meter.deployment, "total").observe(Double(end &- meter.start) / 1e9)
        if meter.computeMicros > 0 {
            durations.labels(meter.tenantName, meter.deployment, "queue").observe(Double(meter.queueMicros) / 1e6)
            durations.labels(meter.tenantName, meter.deployment, "compute").observe(Double(meter.computeMicros) / 1e6)
        }
    }

    func rejectedBeforeRouting(status: Int) { rejected.labels(String(status)).inc() }
    func queueDepth(_ tenant: String, _ deployment: String, delta: Double) { queueGauge.labels(tenant, deployment).inc(by: delta) }
    func inFlight(_ tenant: String, _ deployment: String, delta: Double) { inFlightGauge.labels(tenant, deployment).inc(by: delta) }
    func rateLimited(_ tenant: String, _ deployment: String) { rateLimitedCounter.labels(tenant, deployment).inc() }
    func overloaded(_ tenant: String, _ deployment: String) { overloadedCounter.labels(tenant, deployment).inc() }
    func replicaEjected() { ejections.inc() }
    func shadow(_ outcome: String) { shadowOutcomes.labels(outcome).inc() }

    /// Value of one requests_total series (tests).
    func requestCount(tenant: String, deployment: String, version: String, status: Int) -> Double {
        requests.labels(tenant, deployment, version, String(status)).value
    }

    func shadowCount(_ outcome: String) -> Double { shadowOutcomes.labels(outcome).value }

    func render() -> String { registry.render() }
}
