import Synchronization

/// The gateway's Prometheus series, recorded per request and rendered by `GET /metrics`.
///
/// Series: `plinth_gateway_requests_total{tenant,deployment,version,status}`,
/// `plinth_gateway_request_duration_seconds{tenant,deployment,phase="queue|compute|total"}`
/// (histograms), `plinth_gateway_in_flight{tenant,deployment}`,
/// `plinth_gateway_queue_depth{tenant,deployment}`,
/// `plinth_gateway_rate_limited_total{tenant,deployment,scope}`,
/// `plinth_gateway_overloaded_total{tenant,deployment}`,
/// `plinth_gateway_rejected_total{status}` (before a deployment was resolved),
/// `plinth_gateway_replica_ejections_total`, `plinth_gateway_shadow_total{outcome}`.
final class GatewayMetrics: Sendable {
    /// Upper bounds in seconds.
    static let bounds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]

    private struct Histogram: Sendable {
        var counts = [UInt64](repeating: 0, count: GatewayMetrics.bounds.count)
        var sum = 0.0
        var count: UInt64 = 0

        mutating func observe(_ seconds: Double) {
            // Buckets are stored non-cumulative; rendering accumulates.
            if let index = GatewayMetrics.bounds.firstIndex(where: { seconds <= $0 }) { counts[index] += 1 }
            sum += seconds
            count += 1
        }
    }

    private struct State: Sendable {
        var requests: [[String]: UInt64] = [:]
        var durations: [[String]: Histogram] = [:]
        var inFlight: [[String]: Int] = [:]
        var queueDepth: [[String]: Int] = [:]
        var rateLimited: [[String]: UInt64] = [:]
        var overloaded: [[String]: UInt64] = [:]
        var rejected: [[String]: UInt64] = [:]
        var ejections: UInt64 = 0
        var shadow: [[String]: UInt64] = [:]
    }

    private let state = Mutex(State())

    init() {}

    func requestFinished(meter: UsageMeter, status: Int, end: UInt64) {
        let total = Double(end &- meter.start) / 1e9
        let queue = Double(meter.queueMicros) / 1e6
        let compute = Double(meter.computeMicros) / 1e6
        let statusText = String(status)
        state.withLock { s in
            s.requests[[meter.tenantName, meter.deployment, meter.version, statusText], default: 0] += 1
            s.durations[[meter.tenantName, meter.deployment, "total"], default: Histogram()].observe(total)
            if !meter.version.isEmpty, status < 500 || meter.computeMicros > 0 {
                s.durations[[meter.tenantName, meter.deployment, "queue"], default: Histogram()].observe(queue)
                s.durations[[meter.tenantName, meter.deployment, "compute"], default: Histogram()].observe(compute)
            }
        }
    }

    func rejectedBeforeRouting(status: Int) {
        state.withLock { $0.rejected[[String(status)], default: 0] += 1 }
    }

    func queueEntered(_ tenant: String, _ deployment: String) {
        state.withLock { $0.queueDepth[[tenant, deployment], default: 0] += 1 }
    }

    func queueLeft(_ tenant: String, _ deployment: String) {
        state.withLock { $0.queueDepth[[tenant, deployment], default: 0] -= 1 }
    }

    func inFlight(_ tenant: String, _ deployment: String, delta: Int) {
        state.withLock { $0.inFlight[[tenant, deployment], default: 0] += delta }
    }

    func rateLimited(_ tenant: String, _ deployment: String, scope: String) {
        state.withLock { $0.rateLimited[[tenant, deployment, scope], default: 0] += 1 }
    }

    func overloaded(_ tenant: String, _ deployment: String) {
        state.withLock { $0.overloaded[[tenant, deployment], default: 0] += 1 }
    }

    func replicaEjected() {
        state.withLock { $0.ejections += 1 }
    }

    /// outcome: "agree", "disagree", "failed", "dropped".
    func shadow(_ outcome: String) {
        state.withLock { $0.shadow[[outcome], default: 0] += 1 }
    }

    /// Value of one requests_total series (tests).
    func requestCount(tenant: String, deployment: String, version: String, status: Int) -> UInt64 {
        state.withLock { $0.requests[[tenant, deployment, version, String(status)]] ?? 0 }
    }

    func shadowCount(_ outcome: String) -> UInt64 {
        state.withLock { $0.shadow[[outcome]] ?? 0 }
    }

    /// Prometheus text exposition format 0.0.4.
    func render() -> String {
        let s = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [String], _ values: [String], _ value: String) {
            out += name
            if !labels.isEmpty {
                out += "{"
                for (i, (label, v)) in zip(labels, values).enumerated() {
                    if i > 0 { out += "," }
                    out += label + "=\"" + GatewayMetrics.escape(v) + "\""
                }
                out += "}"
            }
            out += " " + value + "\n"
        }
        family("plinth_gateway_requests_total", "counter", "Metered prediction requests by outcome.")
        for (k, v) in s.requests.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            sample("plinth_gateway_requests_total", ["tenant", "deployment", "version", "status"], k, String(v))
        }
        family("plinth_gateway_request_duration_seconds", "histogram", "Request time by phase (queue, compute, total).")
        for (k, h) in s.durations.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let labels = ["tenant", "deployment", "phase"]
            var cumulative: UInt64 = 0
            for (i, bound) in GatewayMetrics.bounds.enumerated() {
                cumulative += h.counts[i]
                sample("plinth_gateway_request_duration_seconds_bucket", labels + ["le"], k + [String(bound)], String(cumulative))
            }
            sample("plinth_gateway_request_duration_seconds_bucket", labels + ["le"], k + ["+Inf"], String(h.count))
            sample("plinth_gateway_request_duration_seconds_sum", labels, k, String(h.sum))
            sample("plinth_gateway_request_duration_seconds_count", labels, k, String(h.count))
        }
        let gauges: [(String, String, [[String]: Int])] = [
            ("plinth_gateway_in_flight", "Requests being forwarded now.", s.inFlight),
            ("plinth_gateway_queue_depth", "Requests waiting for admission now.", s.queueDepth),
        ]
        for (name, help, values) in gauges {
            family(name, "gauge", help)
            for (k, v) in values.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                sample(name, ["tenant", "deployment"], k, String(v))
            }
        }
        let counters: [(String, String, [String], [[String]: UInt64])] = [
            ("plinth_gateway_rate_limited_total", "Requests refused by a rate limit.", ["tenant", "deployment", "scope"], s.rateLimited),
            ("plinth_gateway_overloaded_total", "Requests refused because the queue was full.", ["tenant", "deployment"], s.overloaded),
            ("plinth_gateway_rejected_total", "Requests refused before a deployment was resolved.", ["status"], s.rejected),
            ("plinth_gateway_shadow_total", "Shadow copies by outcome.", ["outcome"], s.shadow),
        ]
        for (name, help, labels, values) in counters {
            family(name, "counter", help)
            for (k, v) in values.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                sample(name, labels, k, String(v))
            }
        }
        family("plinth_gateway_replica_ejections_total", "counter", "Replicas left out after refusing a connection.")
        sample("plinth_gateway_replica_ejections_total", [], [], String(s.ejections))
        return out
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
