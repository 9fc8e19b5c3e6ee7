import Synchronization

/// The gateway's Prometheus series, registered in the shared `MetricsRegistry`:
///
/// - `plinth_gateway_requests_total{tenant,deployment,version,status}` (metered requests)
/// - `plinth_gateway_request_duration_seconds{tenant,deployment,phase}` histograms, phase
///   `queue` (gateway admission + runtime batcher), `compute` (runtime-reported), `total`
/// - `plinth_gateway_in_flight{tenant,deployment}`, `plinth_gateway_queue_depth{tenant,deployment}`
/// - `plinth_gateway_batch_size{tenant,deployment}` histogram: rows of the runtime's model run
///   that served each request (its dynamic batch, `Plinth-Batch-Size`), when the runtime says
/// - `plinth_gateway_rate_limited_total{tenant,deployment}`, `plinth_gateway_overloaded_total{tenant,deployment}`
/// - `plinth_gateway_rejected_total{status}` (refused before a deployment was resolved: 401/403/404/429)
/// - `plinth_gateway_replica_ejections_total`, `plinth_gateway_shadow_total{outcome}`
///   (outcome: agree, disagree, failed, dropped)
final class GatewayMetrics: Sendable {
    /// The children of one tenant's deployment, looked up once per request instead of per update.
    final class DeploymentSeries: Sendable {
        let inFlight: Gauge
        let queueDepth: Gauge
        let overloaded: Counter
        let rateLimited: Counter
        let total: Histogram
        let queue: Histogram
        let compute: Histogram
        let batchSize: Histogram
        private let tenant: String
        private let deployment: String
        /// requests_total children by version and status, found without hashing four labels.
        private let requestCounters = Mutex<[(version: String, status: Int, counter: Counter)]>([])

        fileprivate func requestCounter(_ family: MetricFamily<Counter>, version: String, status: Int) -> Counter {
            let hit = requestCounters.withLock { list in
                list.first { $0.status == status && $0.version == version }?.counter
            }
            if let hit { return hit }
            let counter = family.labels(tenant, deployment, version, String(status))
            requestCounters.withLock { list in
                if list.count < 64 { list.append((version, status, counter)) }
            }
            return counter
        }

        fileprivate init(_ m: GatewayMetrics, tenant: String, deployment: String) {
            self.tenant = tenant
            self.deployment = deployment
            inFlight = m.inFlightGauge.labels(tenant, deployment)
            queueDepth = m.queueGauge.labels(tenant, deployment)
            overloaded = m.overloadedCounter.labels(tenant, deployment)
            rateLimited = m.rateLimitedCounter.labels(tenant, deployment)
            total = m.durations.labels(tenant, deployment, "total")
            queue = m.durations.labels(tenant, deployment, "queue")
            compute = m.durations.labels(tenant, deployment, "compute")
            batchSize = m.batchSizes.labels(tenant, deployment)
        }
    }

    let registry: MetricsRegistry
    private let seriesCache = Mutex([DeploymentKey: DeploymentSeries]())
    private let requests: MetricFamily<Counter>
    fileprivate let durations: MetricFamily<Histogram>
    fileprivate let batchSizes: MetricFamily<Histogram>
    fileprivate let inFlightGauge: MetricFamily<Gauge>
    fileprivate let queueGauge: MetricFamily<Gauge>
    fileprivate let rateLimitedCounter: MetricFamily<Counter>
    fileprivate let overloadedCounter: MetricFamily<Counter>
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
        batchSizes = registry.histogram(
            "plinth_gateway_batch_size", help: "Rows in the runtime's model run (dynamic batch) that served a request.",
            labels: ["tenant", "deployment"], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096])
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

    /// The series of `deployment` of `tenant` (cached; bounded by the number of deployments).
    func series(tenant: String, deployment: String) -> DeploymentSeries {
        let key = DeploymentKey(tenantID: tenant, deployment: deployment)
        if let cached = seriesCache.withLock({ $0[key] }) { return cached }
        let created = DeploymentSeries(self, tenant: tenant, deployment: deployment)
        return seriesCache.withLock { cache in
            if let raced = cache[key] { return raced }
            cache[key] = created
            return created
        }
    }

    func requestFinished(meter: UsageMeter, series: DeploymentSeries, status: Int, end: UInt64) {
        series.requestCounter(requests, version: meter.version, status: status).inc()
        series.total.observe(Double(end &- meter.start) / 1e9)
        if meter.computeMicros > 0 {
            series.queue.observe(Double(meter.queueMicros) / 1e6)
            series.compute.observe(Double(meter.computeMicros) / 1e6)
        }
        if meter.runtimeBatchRows > 0 { series.batchSize.observe(Double(meter.runtimeBatchRows)) }
    }

    func rejectedBeforeRouting(status: Int) { rejected.labels(String(status)).inc() }
    func replicaEjected() { ejections.inc() }
    func shadow(_ outcome: String) { shadowOutcomes.labels(outcome).inc() }

    /// Value of one requests_total series (tests).
    func requestCount(tenant: String, deployment: String, version: String, status: Int) -> Double {
        requests.labels(tenant, deployment, version, String(status)).value
    }

    func shadowCount(_ outcome: String) -> Double { shadowOutcomes.labels(outcome).value }

    func render() -> String { registry.render() }
}
