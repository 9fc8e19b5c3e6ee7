import PlinthControl
import PlinthGateway

/// The cluster's series on `GET /metrics`, next to the gateway's:
///
/// - `plinth_replicas{tenant,deployment,state}`: replicas by state, read from the control plane's
///   in-memory view at scrape time (the same rows as `GET …/deployments/{d}/status`)
/// - `plinth_replica_cold_start_seconds{tenant,deployment}`: histogram of process start → first
///   ready probe, as each worker's supervisor measured it; its `_count` is the number of cold starts
enum ClusterMetrics {
    static let coldStartBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    /// Registers the families and returns the observer to put in the control plane's configuration.
    static func coldStartObserver(_ registry: MetricsRegistry) -> @Sendable (ReplicaColdStart) -> Void {
        let family = registry.histogram(
            "plinth_replica_cold_start_seconds",
            help: "Replica start-up time: process start to the first ready probe (count = cold starts).",
            labels: ["tenant", "deployment"], buckets: coldStartBuckets)
        return { start in family.labels(start.tenant, start.deployment).observe(start.seconds) }
    }

    /// Refreshes `plinth_replicas` from `control` before every scrape.
    static func registerReplicaCensus(_ registry: MetricsRegistry, control: ControlPlane) {
        let family = registry.gauge(
            "plinth_replicas", help: "Replicas by deployment and state (pending, starting, ready, draining, failed).",
            labels: ["tenant", "deployment", "state"])
        registry.addCollector { [weak control] in
            guard let control else { return }
            var values: [[String]: Double] = [:]
            for entry in control.replicaCensus() {
                values[[entry.tenant, entry.deployment, entry.state]] = Double(entry.count)
            }
            family.replaceAll(values)
        }
    }
}
