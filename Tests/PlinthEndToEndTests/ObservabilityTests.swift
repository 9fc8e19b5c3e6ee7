import Foundation
import PlinthHTTP
import PlinthStore
import PlinthTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `GET /metrics`, payload logging and request ids of a real `plinth serve` with a real replica.
final class ObservabilityTests: XCTestCase {
    var directory: URL!
    var cluster: PlinthCluster!

    override func setUpWithError() throws {
        directory = try TestSupport.temporaryDirectory("plinth-obs")
        cluster = try PlinthCluster(dataDirectory: directory.path + "/data", arguments: ["--access-log"])
    }

    override func tearDown() {
        cluster?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testMetricsPayloadLogAndRequestIDsOfAServedDeployment() throws {
        let acme = try cluster.tenantWithKey("acme")
        let globex = try cluster.tenantWithKey("globex", role: "owner")
        let auth = "Bearer " + acme
        XCTAssertEqual(
            try cluster.call(.POST, "/v1/tenants/acme/models", auth: auth, json: ["name": "churn", "format": "onnx"])
                .status, 201)
        let model = Array(
            try Data(contentsOf: URL(fileURLWithPath: PlinthCluster.vectorsDirectory + "/logreg_30.onnx")))
        XCTAssertEqual(
            try cluster.call(.PUT, "/v1/tenants/acme/models/churn/versions/1/artifact", auth: auth, body: model).status,
            201)
        let spec: [String: Any] = [
            "versions": [["model": "churn", "version": "1"]], "instanceClass": "cpu-small", "minReplicas": 1,
            "batching": ["maxBatchSize": 8, "maxQueueDelayMicros": 200],
            "payloadLogging": ["sampleRate": 1.0, "retentionHours": 24, "maxMegabytes": 8],
        ]
        let put = try cluster.call(.PUT, "/v1/tenants/acme/deployments/scorer", auth: auth, json: spec)
        XCTAssertEqual(put.status, 201, String(decoding: put.body, as: UTF8.self))
        try cluster.waitReady(tenant: "acme", key: acme, deployment: "scorer")

        let body = PlinthCluster.logregRequest(rows: 2)
        for i in 1...3 {
            let r = try cluster.call(
                .POST, "/v2/models/scorer/infer", auth: auth, body: body, headers: ["X-Request-Id": "obs-\(i)"])
            XCTAssertEqual(r.status, 200, String(decoding: r.body, as: UTF8.self))
            XCTAssertEqual(r.headers["X-Request-Id"], "obs-\(i)")
        }

        let scrape = try cluster.call(.GET, "/metrics", auth: nil)
        XCTAssertEqual(scrape.status, 200)
        XCTAssertTrue(scrape.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") ?? false)
        let page = try PrometheusText(String(decoding: scrape.body, as: UTF8.self))
        let deployment = ["tenant": "acme", "deployment": "scorer"]
        XCTAssertEqual(page.value("plinth_replicas", deployment.merging(["state": "ready"]) { a, _ in a }), 1)
        XCTAssertGreaterThanOrEqual(page.value("plinth_replica_cold_start_seconds_count", deployment) ?? 0, 1)
        XCTAssertGreaterThan(page.value("plinth_replica_cold_start_seconds_sum", deployment) ?? 0, 0)
        XCTAssertEqual(
            page.value(
                "plinth_gateway_requests_total",
                deployment.merging(["version": "1", "status": "200"]) { a, _ in a }), 3)
        for phase in ["queue", "compute", "total"] {
            XCTAssertEqual(
                page.value(
                    "plinth_gateway_request_duration_seconds_count",
                    deployment.merging(["phase": phase]) { a, _ in a }), 3, phase)
        }
        XCTAssertEqual(page.value("plinth_gateway_in_flight", deployment), 0)
        XCTAssertEqual(page.value("plinth_gateway_queue_depth", deployment), 0)
        // Each request had 2 rows, so each ran in a model run of at least 2.
        XCTAssertEqual(page.value("plinth_gateway_batch_size_count", deployment), 3)
        XCTAssertEqual(page.value("plinth_gateway_batch_size_bucket", deployment.merging(["le": "1"]) { a, _ in a }), 0)
        XCTAssertEqual(
            page.value("plinth_gateway_batch_size_bucket", deployment.merging(["le": "+Inf"]) { a, _ in a }), 3)
        XCTAssertEqual(page.types["plinth_replicas"], "gauge")
        XCTAssertEqual(page.types["plinth_replica_cold_start_seconds"], "histogram")
        XCTAssertEqual(page.types["plinth_gateway_batch_size"], "histogram")

        // The sampled pairs, newest first, to the tenant only.
        var items: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(20)
        while items.count < 3, Date() < deadline {
            let r = try cluster.call(.GET, "/v1/tenants/acme/deployments/scorer/payloads", auth: auth)
            XCTAssertEqual(r.status, 200)
            items = (r.json as? [String: Any])?["items"] as? [[String: Any]] ?? []
            if items.count < 3 { usleep(100_000) }
        }
        XCTAssertEqual(items.compactMap { $0["request_id"] as? String }, ["obs-3", "obs-2", "obs-1"])
        XCTAssertEqual(
            (items.last?["request"] as? [String: Any])?["body"] as? String, String(decoding: body, as: UTF8.self))
        XCTAssertNotNil(
            ((items.last?["response"] as? [String: Any])?["body"] as? String)?.range(of: "output_probability"))
        XCTAssertEqual(items.last?["status"] as? Int, 200)
        XCTAssertEqual(
            try cluster.call(.GET, "/v1/tenants/acme/deployments/scorer/payloads", auth: "Bearer " + globex).status, 404
        )
        let files = try FileManager.default.contentsOfDirectory(atPath: cluster.dataDirectory + "/payloads/acme/scorer")
        for name in files {
            let mode =
                try FileManager.default.attributesOfItem(
                    atPath: cluster.dataDirectory + "/payloads/acme/scorer/" + name)[.posixPermissions] as? Int
            XCTAssertEqual((mode ?? 0) & 0o777, 0o600, name)
        }

        // The usage event counts the request's own rows (examples), not its model run's.
        let store = try Store(path: cluster.dataDirectory + "/plinth.db", readers: 1)
        defer { store.close() }
        var examples = 0
        let until = Date().addingTimeInterval(20)
        repeat {
            examples = try store.read { db in
                try db.queryOne(
                    "SELECT COALESCE(SUM(batch_rows),0) n FROM usage_minutes WHERE tenant = 'acme' AND shadow = 0"
                )?.int("n") ?? 0
            }
            if examples < 6 { usleep(200_000) }
        } while examples < 6 && Date() < until
        XCTAssertEqual(examples, 6)

        // The gateway's access log carries the caller's request id.
        XCTAssertTrue(cluster.server.stderrText.contains(#""request_id":"obs-2""#))
    }

    /// The runtime logs the gateway's request id (`--access-log`), so one id finds both sides.
    func testRuntimeAccessLogCarriesTheForwardedRequestID() throws {
        let socket = directory.path + "/rt.sock"
        let runtime = try PlinthProcess([
            "runtime", "--model", PlinthCluster.vectorsDirectory + "/logreg_30.onnx", "--listen", "unix:" + socket,
            "--name", "m", "--access-log",
        ])
        defer {
            runtime.signal(SIGTERM)
            _ = runtime.waitForExit(timeout: 10)
        }
        XCTAssertTrue(runtime.waitForStderr(containing: "serving model", timeout: 30), runtime.stderrText)
        var headers = HTTPHeaders()
        headers.set("X-Request-Id", "gw-req-42")
        headers.set("Content-Type", "application/json")
        let answer = try HTTPClient().send(
            HTTPClientRequest(
                method: .POST, path: "/v2/models/m/infer", headers: headers, body: PlinthCluster.logregRequest(rows: 3)),
            to: .unix(path: socket))
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.headers["Plinth-Request-Rows"], "3")
        XCTAssertEqual(answer.headers["Plinth-Batch-Size"], "3")
        XCTAssertTrue(runtime.waitForStderr(containing: #""request_id":"gw-req-42""#, timeout: 10), runtime.stderrText)
    }
}

/// A parsed Prometheus text exposition (0.0.4): samples by name and labels, and each family's type.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw ParseError(line: String(line)) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(of: " "),
                let value = Double(line[line.index(after: space)...]) ?? Self.special(line[line.index(after: space)...])
            else { throw ParseError(line: String(line)) }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let brace = series.firstIndex(of: "{") {
                guard series.hasSuffix("}") else { throw ParseError(line: String(line)) }
                name = String(series[..<brace])
                let inner = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                // Label values here never hold commas or escaped quotes (names and numbers).
                for pair in inner.split(separator: ",") {
                    guard let eq = pair.firstIndex(of: "="), pair.hasSuffix("\""),
                        pair[pair.index(after: eq)...].hasPrefix("\"")
                    else { throw ParseError(line: String(line)) }
                    labels[String(pair[..<eq])] = String(
                        pair[pair.index(eq, offsetBy: 2)..<pair.index(before: pair.endIndex)])
                }
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        // Every sample belongs to a family with a TYPE line.
        for sample in samples {
            let family = ["_bucket", "_sum", "_count"].reduce(sample.name) { name, suffix in
                name.hasSuffix(suffix) && types[String(name.dropLast(suffix.count))] == "histogram"
                    ? String(name.dropLast(suffix.count)) : name
            }
            guard types[family] != nil else { throw ParseError(line: "no TYPE for \(sample.name)") }
        }
    }

    private static func special(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: nil
        }
    }

    /// The value of the one sample named `name` with exactly `labels`.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: String
        var description: String { "unparsable metrics line: \(line)" }
    }
}
