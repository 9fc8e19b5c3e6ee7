import Foundation
import PlinthCore
import PlinthHTTP
import XCTest

@testable import PlinthGateway

#if canImport(Glibc)
    import Glibc
#endif

/// Shadow sampling and payload logging through the gateway's real request path.
final class GatewayObservabilityTests: XCTestCase {
    var harness: GatewayHarness!
    var payloadRoot: String!

    override func setUpWithError() throws {
        payloadRoot = NSTemporaryDirectory() + "plinth-pl-\(UUID().uuidString.prefix(8))"
        let root = payloadRoot!
        harness = try GatewayHarness {
            $0.shadowQueueCapacity = 1000
            $0.shadowWorkers = 2
            $0.payloadLogDirectory = root
        }
    }

    override func tearDown() {
        harness.stop()
        try? FileManager.default.removeItem(atPath: payloadRoot)
    }

    func testShadowPercentMirrorsTheSampledShareOfRequestIDs() throws {
        let primary = try harness.runtime("sp-primary")
        let shadow = try harness.runtime("sp-shadow")
        harness.deploy(
            "sampled", versions: [("v1", 100, [primary])],
            shadow: VersionRoute(version: "v2", weight: 0, replicas: [shadow.replica()], modelName: "m2")
        ) { $0.shadowPercent = 25 }
        let ids = (0..<200).map { "shadow-req-\($0)" }
        let expected = ids.filter { RequestSample.keeps($0, fraction: 0.25, salt: RequestSample.shadowSalt) }.count
        XCTAssertTrue((30...70).contains(expected), "25% of 200 ids, got \(expected)")
        for id in ids {
            XCTAssertEqual(harness.post("/v2/models/sampled/infer", headers: [("X-Request-Id", id)]).status, 200)
        }
        XCTAssertTrue(eventually { harness.gateway.metrics.shadowCount("agree") == Double(expected) })
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(harness.gateway.metrics.shadowCount("agree"), Double(expected), "no more copies than sampled")
        let events = try harness.usageEvents()
        let mirrored = Set(events.filter(\.shadow).map(\.requestID))
        XCTAssertEqual(
            mirrored, Set(ids.filter { RequestSample.keeps($0, fraction: 0.25, salt: RequestSample.shadowSalt) }))

        // 0 % mirrors nothing; the callers are served the same.
        harness.deploy(
            "unmirrored", versions: [("v1", 100, [primary])],
            shadow: VersionRoute(version: "v2", weight: 0, replicas: [shadow.replica()], modelName: "m2")
        ) { $0.shadowPercent = 0 }
        for i in 0..<20 {
            XCTAssertEqual(
                harness.post("/v2/models/unmirrored/infer", headers: [("X-Request-Id", "z-\(i)")]).status, 200)
        }
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(harness.gateway.metrics.shadowCount("agree"), Double(expected))
    }

    func testSampleIsDeterministicAndRoughlyUniform() {
        let ids = (0..<10_000).map { "r\($0)" }
        let kept = ids.filter { RequestSample.keeps($0, fraction: 0.3, salt: RequestSample.payloadSalt) }
        XCTAssertTrue((2_700...3_300).contains(kept.count), "\(kept.count)")
        XCTAssertEqual(kept, ids.filter { RequestSample.keeps($0, fraction: 0.3, salt: RequestSample.payloadSalt) })
        XCTAssertTrue(ids.allSatisfy { RequestSample.keeps($0, fraction: 1, salt: 1) })
        XCTAssertFalse(ids.contains { RequestSample.keeps($0, fraction: 0, salt: 1) })
        // Different purposes sample independently.
        let shadowKept = ids.filter { RequestSample.keeps($0, fraction: 0.3, salt: RequestSample.shadowSalt) }
        XCTAssertNotEqual(Set(kept), Set(shadowKept))
    }

    func testPayloadLoggingWritesRequestAndResponsePairsToOwnerOnlyFiles() throws {
        let runtime = try harness.runtime("pl-echo")
        let policy = PayloadLoggingPolicy(sampleRate: 1, retentionHours: 24, maxBytes: 1 << 20)
        harness.deploy("logged", versions: [("v1", 100, [runtime])]) { $0.payloadLogging = policy }
        harness.deploy("quiet", versions: [("v1", 100, [runtime])])
        let json = Array(#"{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[1.5]}]}"#.utf8)
        XCTAssertEqual(
            harness.post("/v2/models/logged/infer", body: json, headers: [("X-Request-Id", "pl-1")]).status, 200)
        XCTAssertEqual(harness.post("/v2/models/quiet/infer", body: json).status, 200)
        // Binary tensor extension: JSON header then raw bytes (not UTF-8) → base64.
        let header = Array(
            #"{"inputs":[{"name":"x","shape":[1],"datatype":"UINT8","parameters":{"binary_data_size":2}}]}"#.utf8)
        let binary = header + [0xFF, 0xFE]
        let sent = harness.post(
            "/v2/models/logged/infer", body: binary,
            headers: [("X-Request-Id", "pl-2"), ("Inference-Header-Content-Length", String(header.count))])
        XCTAssertEqual(sent.status, 200)
        let recorder = try XCTUnwrap(harness.gateway.payloads)
        XCTAssertTrue(eventually { recorder.completedCount == 2 })

        let directory = payloadRoot + "/acme/logged"
        XCTAssertEqual(try permissions(payloadRoot + "/acme"), 0o700)
        XCTAssertEqual(try permissions(directory), 0o700)
        XCTAssertFalse(FileManager.default.fileExists(atPath: payloadRoot + "/acme/quiet"), "off by default")
        let files = PayloadLogLayout.recordFiles(try FileManager.default.contentsOfDirectory(atPath: directory))
        XCTAssertEqual(files.count, 1)
        XCTAssertEqual(try permissions(directory + "/" + files[0]), 0o600)
        XCTAssertEqual(try permissions(directory + "/" + PayloadLogLayout.policyFileName), 0o600)
        let lines = try String(contentsOfFile: directory + "/" + files[0], encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["request_id"] as? String, "pl-1")
        XCTAssertEqual(first["tenant"] as? String, "acme")
        XCTAssertEqual(first["deployment"] as? String, "logged")
        XCTAssertEqual(first["version"] as? String, "v1")
        XCTAssertEqual(first["status"] as? Int, 200)
        XCTAssertNotNil((first["timestamp"] as? String).flatMap { ISO8601DateFormatter.withFraction.date(from: $0) })
        let request = try XCTUnwrap(first["request"] as? [String: Any])
        XCTAssertEqual(request["body"] as? String, String(decoding: json, as: UTF8.self))
        XCTAssertEqual(request["content_type"] as? String, "application/json")
        XCTAssertEqual((first["response"] as? [String: Any])?["body"] as? String, String(decoding: json, as: UTF8.self))
        let second = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        let encoded = try XCTUnwrap((second["request"] as? [String: Any])?["body_base64"] as? String)
        XCTAssertEqual(Data(base64Encoded: encoded).map(Array.init), binary)
        XCTAssertNotNil((second["response"] as? [String: Any])?["body_base64"])
        XCTAssertEqual(
            harness.registry.render().contains(#"plinth_gateway_payload_records_total{outcome="written"} 2"#), true)
    }

    func testFullPayloadQueueDropsAndCountsWithoutWaiting() {
        let registry = MetricsRegistry()
        // Not started: nothing drains the queue.
        let recorder = PayloadRecorder(root: payloadRoot, capacity: 2, maxQueuedBytes: 1 << 20, metrics: registry)
        let record = Self.record(bytes: 10)
        XCTAssertTrue(recorder.offer(record))
        XCTAssertTrue(recorder.offer(record))
        XCTAssertFalse(recorder.offer(record))
        // A record bigger than the byte bound is dropped too.
        let big = PayloadRecorder(root: payloadRoot, capacity: 10, maxQueuedBytes: 1 << 16, metrics: registry)
        XCTAssertFalse(big.offer(Self.record(bytes: 1 << 17)))
        XCTAssertTrue(registry.render().contains(#"plinth_gateway_payload_records_total{outcome="dropped"} 2"#))
    }

    func testStoreRotatesAndKeepsTheBudgetAndRetention() throws {
        let policy = PayloadLoggingPolicy(sampleRate: 1, retentionHours: 1, maxBytes: 256 << 10)
        let store = PayloadStore(root: payloadRoot)
        let now = Date()
        for _ in 0..<40 {
            var record = Self.record(bytes: 20 << 10)
            record.policy = policy
            XCTAssertTrue(store.append(record, now: now))
        }
        let directory = payloadRoot + "/acme/dep"
        func files() throws -> [String] {
            PayloadLogLayout.recordFiles(try FileManager.default.contentsOfDirectory(atPath: directory))
        }
        let sizes = try files().map {
            try FileManager.default.attributesOfItem(atPath: directory + "/" + $0)[.size] as! Int
        }
        XCTAssertGreaterThan(sizes.count, 1, "rotated")
        XCTAssertLessThanOrEqual(sizes.reduce(0, +), 256 << 10 + PayloadStore.segmentLimit(policy) + (24 << 10))
        store.closeAll()

        // Age them past the retention; a fresh store (a restart) reads the policy from the folder.
        let old = timeval(tv_sec: Int(now.timeIntervalSince1970) - 2 * 3600, tv_usec: 0)
        for name in try files() {
            var times = [old, old]
            XCTAssertEqual(utimes(directory + "/" + name, &times), 0)
        }
        PayloadStore(root: payloadRoot).sweep(now: now)
        XCTAssertEqual(try files(), [])

        // The segment being written expires too, and writing goes on in a new one.
        let live = PayloadStore(root: payloadRoot)
        XCTAssertTrue(live.append(Self.record(bytes: 10), now: now))
        for name in try files() {
            var times = [old, old]
            XCTAssertEqual(utimes(directory + "/" + name, &times), 0)
        }
        live.sweep(now: now)
        XCTAssertEqual(try files(), [])
        XCTAssertTrue(live.append(Self.record(bytes: 10), now: now))
        XCTAssertEqual(try files().count, 1)
        live.closeAll()
    }

    static func record(bytes: Int) -> PayloadRecord {
        PayloadRecord(
            requestID: "r", tenant: "acme", deployment: "dep", version: "1", timestampMicros: 1_700_000_000_000_000,
            status: 200, requestBody: Array(repeating: 0x61, count: bytes), requestContentType: "application/json",
            requestIsBinary: false, responseBody: [], responseContentType: nil, responseIsBinary: false,
            policy: PayloadLoggingPolicy(sampleRate: 1, retentionHours: 1, maxBytes: 1 << 20))
    }

    private func permissions(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1) & 0o777
    }
}

extension ISO8601DateFormatter {
    static var withFraction: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
