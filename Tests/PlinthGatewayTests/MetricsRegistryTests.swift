import PlinthGateway
import XCTest

final class MetricsRegistryTests: XCTestCase {
    func testRendersCountersGaugesAndHistogramsInTextFormat004() {
        let registry = MetricsRegistry()
        let requests = registry.counter("plinth_requests_total", help: "Requests served.", labels: ["tenant", "code"])
        requests.labels("acme", "200").inc()
        requests.labels("acme", "200").inc(by: 2)
        requests.labels("beta", "429").inc()
        requests.labels("beta", "429").inc(by: -5)
        let inflight = registry.gauge("plinth_inflight", help: "In flight.")
        inflight.labels().set(3)
        inflight.labels().dec()
        let latency = registry.histogram(
            "plinth_latency_seconds", help: "Latency.", labels: ["dep"], buckets: [0.1, 0.5, 1])
        for v in [0.05, 0.1, 0.3, 2.0] { latency.labels("d1").observe(v) }

        XCTAssertEqual(
            registry.render(),
            """
            # HELP plinth_inflight In flight.
            # TYPE plinth_inflight gauge
            plinth_inflight 2
            # HELP plinth_latency_seconds Latency.
            # TYPE plinth_latency_seconds histogram
            plinth_latency_seconds_bucket{dep="d1",le="0.1"} 2
            plinth_latency_seconds_bucket{dep="d1",le="0.5"} 3
            plinth_latency_seconds_bucket{dep="d1",le="1"} 3
            plinth_latency_seconds_bucket{dep="d1",le="+Inf"} 4
            plinth_latency_seconds_sum{dep="d1"} 2.45
            plinth_latency_seconds_count{dep="d1"} 4
            # HELP plinth_requests_total Requests served.
            # TYPE plinth_requests_total counter
            plinth_requests_total{tenant="acme",code="200"} 3
            plinth_requests_total{tenant="beta",code="429"} 1

            """)
    }

    func testLabelValuesAndHelpAreEscaped() {
        let registry = MetricsRegistry()
        registry.counter("x_total", help: "a \\ b\nc", labels: ["v"]).labels("q\"uote\\back\nline").inc()
        let text = registry.render()
        XCTAssertTrue(text.contains("# HELP x_total a \\\\ b\\nc\n"), text)
        XCTAssertTrue(text.contains(#"x_total{v="q\"uote\\back\nline"} 1"#), text)
    }

    func testSpecialValuesAndReRegistration() {
        let registry = MetricsRegistry()
        let g = registry.gauge("g", help: "h")
        g.labels().set(.infinity)
        XCTAssertTrue(registry.render().contains("g +Inf\n"))
        g.labels().set(.nan)
        XCTAssertTrue(registry.render().contains("g NaN\n"))
        g.labels().set(0.25)
        XCTAssertTrue(registry.render().contains("g 0.25\n"))
        XCTAssertTrue(registry.gauge("g", help: "h") === g, "same family returned")
    }

    func testConcurrentIncrementsAreNotLost() {
        let registry = MetricsRegistry()
        let c = registry.counter("c_total", help: "c", labels: ["k"])
        let h = registry.histogram("h", help: "h")
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for _ in 0..<1000 {
                c.labels("k\(i % 2)").inc()
                h.labels().observe(0.001)
            }
        }
        XCTAssertEqual(c.labels("k0").value + c.labels("k1").value, 8000)
        XCTAssertEqual(h.labels().snapshot.count, 8000)
    }
}
