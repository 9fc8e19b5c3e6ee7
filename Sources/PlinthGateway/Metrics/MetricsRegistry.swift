import Synchronization

/// Named metric families with labels, rendered in the Prometheus text exposition format 0.0.4.
///
/// Register families once at start-up and keep the returned family; look up a labelled child
/// per request (`family.labels("acme", "200")`) or cache the child for fixed labels.
public final class MetricsRegistry: Sendable {
    /// Default latency buckets in seconds (0.5 ms … 10 s).
    public static let defaultBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    private let families = Mutex<[String: any RenderableFamily]>([:])
    private let collectors = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    /// A counter family. Registering the same name again returns the existing family.
    /// - Precondition: valid metric/label names, same type and labels on re-registration.
    public func counter(_ name: String, help: String, labels: [String] = []) -> MetricFamily<Counter> {
        register(name) { MetricFamily(name: name, help: help, type: "counter", labelNames: labels) { Counter() } }
    }

    /// A gauge family.
    public func gauge(_ name: String, help: String, labels: [String] = []) -> MetricFamily<Gauge> {
        register(name) { MetricFamily(name: name, help: help, type: "gauge", labelNames: labels) { Gauge() } }
    }

    /// A histogram family with ascending bucket upper bounds (+Inf is implied).
    public func histogram(
        _ name: String, help: String, labels: [String] = [], buckets: [Double] = MetricsRegistry.defaultBuckets
    ) -> MetricFamily<Histogram> {
        let bounds = Array(Set(buckets.filter { $0.isFinite })).sorted()
        precondition(!labels.contains("le"), "'le' is reserved for histogram buckets")
        return register(name) {
            MetricFamily(name: name, help: help, type: "histogram", labelNames: labels) { Histogram(bounds: bounds) }
        }
    }

    private func register<M>(_ name: String, make: () -> MetricFamily<M>) -> MetricFamily<M> {
        precondition(MetricFamilyNames.isValidMetricName(name), "invalid metric name \(name)")
        return families.withLock { families in
            if let existing = families[name] {
                guard let typed = existing as? MetricFamily<M> else {
                    preconditionFailure("metric \(name) registered with another type")
                }
                return typed
            }
            let family = make()
            families[name] = family
            return family
        }
    }

    /// Runs `collect` before every `render`: for values read from elsewhere at scrape time (e.g.
    /// replicas by state) instead of being updated on every change.
    public func addCollector(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// All families in the text exposition format 0.0.4, sorted by name
    /// (serve with `Content-Type: text/plain; version=0.0.4; charset=utf-8`).
    public func render() -> String {
        for collect in collectors.withLock({ $0 }) { collect() }
        let all = families.withLock { $0.values.map { $0 } }.sorted { $0.name < $1.name }
        var out = ""
        for family in all { family.render(into: &out) }
        return out
    }
}

protocol RenderableFamily: Sendable {
    var name: String { get }
    func render(into out: inout String)
}
