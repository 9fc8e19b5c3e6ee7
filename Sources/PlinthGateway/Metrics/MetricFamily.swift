import Synchronization

/// One metric name with its label names and a child per label-value combination.
public final class MetricFamily<Metric: Sendable & AnyObject>: Sendable, RenderableFamily {
    public let name: String
    public let help: String
    public let type: String
    public let labelNames: [String]
    private let make: @Sendable () -> Metric
    private let children = Mutex<[[String]: Metric]>([:])

    init(name: String, help: String, type: String, labelNames: [String], make: @escaping @Sendable () -> Metric) {
        for label in labelNames {
            precondition(MetricFamilyNames.isValidLabelName(label), "invalid label name \(label)")
        }
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.make = make
    }

    /// The child for these label values (created on first use).
    /// - Precondition: as many values as label names.
    public func labels(_ values: String...) -> Metric { labels(values) }

    /// The child for these label values (created on first use).
    public func labels(_ values: [String]) -> Metric {
        precondition(values.count == labelNames.count, "\(name) takes \(labelNames.count) label values")
        return children.withLock { children in
            if let existing = children[values] { return existing }
            let metric = make()
            children[values] = metric
            return metric
        }
    }

    /// Replaces every child at once with fresh gauges holding `values` (label values → value), so
    /// a series that is gone from `values` disappears from the page.
    public func replaceAll(_ values: [[String]: Double]) where Metric == Gauge {
        var fresh: [[String]: Gauge] = [:]
        for (labels, value) in values {
            precondition(labels.count == labelNames.count, "\(name) takes \(labelNames.count) label values")
            let gauge = Gauge()
            gauge.set(value)
            fresh[labels] = gauge
        }
        children.withLock { $0 = fresh }
    }

    /// Number of children (label combinations): watch cardinality.
    public var seriesCount: Int { children.withLock { $0.count } }

    func render(into out: inout String) {
        out += "# HELP \(name) \(MetricFamilyNames.escapeHelp(help))\n"
        out += "# TYPE \(name) \(type)\n"
        let series = children.withLock { $0.map { ($0.key, $0.value) } }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
        for (values, metric) in series {
            let labels = zip(labelNames, values).map { ($0, $1) }
            switch metric {
            case let c as Counter:
                line(name, labels, MetricFamilyNames.format(c.value), &out)
            case let g as Gauge:
                line(name, labels, MetricFamilyNames.format(g.value), &out)
            case let h as Histogram:
                let snap = h.snapshot
                for (bound, count) in zip(h.bounds, snap.cumulative) {
                    line(name + "_bucket", labels + [("le", MetricFamilyNames.format(bound))], String(count), &out)
                }
                line(name + "_bucket", labels + [("le", "+Inf")], String(snap.count), &out)
                line(name + "_sum", labels, MetricFamilyNames.format(snap.sum), &out)
                line(name + "_count", labels, String(snap.count), &out)
            default:
                break
            }
        }
    }

    private func line(_ name: String, _ labels: [(String, String)], _ value: String, _ out: inout String) {
        out += name
        if !labels.isEmpty {
            out += "{"
            out += labels.map { "\($0.0)=\"\(MetricFamilyNames.escapeLabelValue($0.1))\"" }.joined(separator: ",")
            out += "}"
        }
        out += " " + value + "\n"
    }
}

/// Name rules and escaping of the text format 0.0.4.
enum MetricFamilyNames {
    static func isValidMetricName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCII,
            first == "_" || first == ":" || first.properties.isAlphabetic
        else { return false }
        return s.unicodeScalars.allSatisfy {
            $0.isASCII && ($0 == "_" || $0 == ":" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
        }
    }

    static func isValidLabelName(_ s: String) -> Bool {
        !s.hasPrefix("__") && !s.contains(":") && isValidMetricName(s)
    }

    /// Label values: backslash, double quote and newline are escaped.
    static func escapeLabelValue(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// HELP text: backslash and newline are escaped.
    static func escapeHelp(_ s: String) -> String {
        s.replacingBackslashAndNewline()
    }

    /// Sample values: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}

extension String {
    fileprivate func replacingBackslashAndNewline() -> String {
        var out = ""
        for c in unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
