import Dispatch
import Foundation
import PlinthHTTP
import Synchronization
import XCTest

@testable import PlinthRuntime

/// The OIP routes through `Router.handle` (no sockets) over a small real model.
final class RuntimeRoutesTests: XCTestCase {
    func makeRouter(
        model: RowStatsModel = RowStatsModel(), name: String = "stats", maxBatch: Int = 8, maxDelayMicros: Int = 0
    ) -> (Router, BatchingExecutor) {
        let executor = BatchingExecutor(
            model: model, maxBatch: maxBatch, maxDelayMicros: maxDelayMicros, concurrency: 1)
        let service = InferenceService(name: name, version: "1", model: model, executor: executor)
        let router = Router()
        RuntimeRoutes.install(on: router, service: service, isReady: { true })
        return (router, executor)
    }

    static func post(_ router: Router, _ path: String, _ body: [UInt8], headers: HTTPHeaders = [:]) -> HTTPResponse {
        router.handle(HTTPRequest(method: .POST, path: path, headers: headers, body: body))
    }

    static func json(_ response: HTTPResponse) throws -> [String: Any] {
        guard case .bytes(let bytes) = response.body else { throw XCTSkip("streamed body") }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func testHealthMetadataAndReadiness() throws {
        let (router, executor) = makeRouter()
        defer { executor.shutdown() }
        for path in [
            "/v2/health/live", "/v2/health/ready", "/v2/models/stats/ready", "/v2/models/stats/versions/1/ready",
        ] {
            XCTAssertEqual(router.handle(HTTPRequest(method: .GET, path: path)).status, 200, path)
        }
        for path in ["/v2/models/stats", "/v2/models/stats/versions/1"] {
            let metadata = try Self.json(router.handle(HTTPRequest(method: .GET, path: path)))
            XCTAssertEqual(metadata["name"] as? String, "stats")
            XCTAssertEqual(metadata["platform"] as? String, "plinth-onnx")
            XCTAssertEqual(metadata["versions"] as? [String], ["1"])
            let inputs = try XCTUnwrap(metadata["inputs"] as? [[String: Any]])
            XCTAssertEqual(inputs.first?["datatype"] as? String, "FP32")
            XCTAssertEqual(inputs.first?["shape"] as? [Int], [-1, 3])
            XCTAssertEqual((metadata["outputs"] as? [[String: Any]])?.count, 2)
        }
    }

    func testUnknownModelOrVersionIs404() {
        let (router, executor) = makeRouter()
        defer { executor.shutdown() }
        XCTAssertEqual(router.handle(HTTPRequest(method: .GET, path: "/v2/models/other")).status, 404)
        XCTAssertEqual(router.handle(HTTPRequest(method: .GET, path: "/v2/models/stats/versions/2/ready")).status, 404)
        XCTAssertEqual(Self.post(router, "/v2/models/other/infer", Array("{}".utf8)).status, 404)
    }

    /// The infer route skips the path-parameter lookup when the raw path is the model's own; a
    /// name with '%' must still be matched after percent-decoding, as the other routes do.
    func testInferMatchesTheModelNameAfterPercentDecoding() throws {
        let body = Array(#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#.utf8)
        let (router, executor) = makeRouter(name: "a%62")
        defer { executor.shutdown() }
        XCTAssertEqual(Self.post(router, "/v2/models/a%2562/infer", body).status, 200)
        let raw = Self.post(router, "/v2/models/a%62/infer", body)
        XCTAssertEqual(raw.status, 404)
        XCTAssertEqual(try Self.json(raw)["error"] as? String, "model 'ab' not found; this runtime serves 'a%62'")
        let (plain, plainExecutor) = makeRouter()
        defer { plainExecutor.shutdown() }
        XCTAssertEqual(Self.post(plain, "/v2/models/stats/infer", body).status, 200)
        XCTAssertEqual(Self.post(plain, "/v2/models/st%61ts/infer", body).status, 200)
        XCTAssertEqual(Self.post(plain, "/v2/models/stat/infer", body).status, 404)
    }

    func testJSONInferenceReturnsOutputsAndTimings() throws {
        let (router, executor) = makeRouter()
        defer { executor.shutdown() }
        let body = """
            {"id":"a1","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,5,2],[0.5,-1,0]]}],
             "outputs":[{"name":"y"},{"name":"label"}]}
            """
        let response = Self.post(router, "/v2/models/stats/versions/1/infer", Array(body.utf8))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Type"], "application/json")
        XCTAssertNotNil(response.headers["Plinth-Queue-Us"].flatMap { Int($0) })
        XCTAssertNotNil(response.headers["Plinth-Compute-Us"].flatMap { Int($0) })
        XCTAssertEqual(response.headers["Plinth-Batch-Size"], "2")
        let object = try Self.json(response)
        XCTAssertEqual(object["id"] as? String, "a1")
        XCTAssertEqual(object["model_name"] as? String, "stats")
        XCTAssertNotNil((object["parameters"] as? [String: Any])?["plinth_compute_us"])
        let outputs = try XCTUnwrap(object["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs[0]["data"] as? [Double], [8, 2, -0.5, 1])
        XCTAssertEqual(outputs[0]["shape"] as? [Int], [2, 2])
        XCTAssertEqual(outputs[1]["data"] as? [Int], [1, 0])
    }

    func testBinaryInferenceRoundTrip() throws {
        let (router, executor) = makeRouter()
        defer { executor.shutdown() }
        let header = """
            {"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","parameters":{"binary_data_size":12}}],
             "outputs":[{"name":"y","parameters":{"binary_data":true}},{"name":"label"}]}
            """
        var body = Array(header.utf8)
        for f: Float in [3, 4, 5] { withUnsafeBytes(of: f.bitPattern.littleEndian) { body += $0 } }
        let response = Self.post(
            router, "/v2/models/stats/infer", body,
            headers: ["Inference-Header-Content-Length": String(header.utf8.count)])
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Type"], "application/octet-stream")
        let length = try XCTUnwrap(response.headers["Inference-Header-Content-Length"].flatMap { Int($0) })
        guard case .bytes(let bytes) = response.body else { return XCTFail("body") }
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[0..<length])) as? [String: Any])
        let outputs = try XCTUnwrap(object["outputs"] as? [[String: Any]])
        XCTAssertEqual((outputs[0]["parameters"] as? [String: Any])?["binary_data_size"] as? Int, 8)
        XCTAssertEqual(outputs[1]["data"] as? [Int], [2])
        let floats = bytes[length...].withUnsafeBytes { raw in
            (0..<2).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
        XCTAssertEqual(floats, [12, 6])
    }

    func testWrongInputsAre400WithWhatWasExpected() throws {
        let (router, executor) = makeRouter()
        defer { executor.shutdown() }
        let table: [(String, String)] = [
            (
                "{\"inputs\":[{\"name\":\"z\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}",
                "unknown input 'z'; the model's inputs are 'x' (FP32 [-1, 3])"
            ),
            (
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP64\",\"data\":[1,2,3]}]}",
                "input 'x' has datatype FP64; the model expects FP32"
            ),
            (
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP32\",\"data\":[1,2]}]}",
                "input 'x' has shape [1, 2]; the model expects [-1, 3]"
            ),
            (
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}",
                "input 'x' has shape [3]; the model expects [-1, 3]"
            ),
            (
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}],\"outputs\":[{\"name\":\"q\"}]}",
                "unknown output 'q'; the model's outputs are 'y', 'label'"
            ),
            ("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}", "malformed JSON"),
        ]
        for (body, expected) in table {
            let response = Self.post(router, "/v2/models/stats/infer", Array(body.utf8))
            XCTAssertEqual(response.status, 400, body)
            let message = try Self.json(response)["error"] as? String ?? ""
            XCTAssertTrue(message.contains(expected), "\(message) lacks \(expected)")
        }
        let badLength = Self.post(
            router, "/v2/models/stats/infer", Array("{}".utf8),
            headers: ["Inference-Header-Content-Length": "abc"])
        XCTAssertEqual(badLength.status, 400)
    }

    func testConcurrentRequestsAreBatchedAndEachGetsItsOwnRows() throws {
        let model = RowStatsModel()
        let (router, executor) = makeRouter(model: model, maxBatch: 16, maxDelayMicros: 50_000)
        defer { executor.shutdown() }
        let count = 12
        let results = Mutex<[Int: (status: Int, batch: Int, y: [Double])]>([:])
        DispatchQueue.concurrentPerform(iterations: count) { i in
            let body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[\(i),1,1]}]}"
            let response = Self.post(router, "/v2/models/stats/infer", Array(body.utf8))
            let y = ((try? Self.json(response))?["outputs"] as? [[String: Any]])?.first?["data"] as? [Double] ?? []
            results.withLock { $0[i] = (response.status, Int(response.headers["Plinth-Batch-Size"] ?? "") ?? 0, y) }
        }
        let all = results.withLock { $0 }
        XCTAssertEqual(all.count, count)
        for (i, result) in all {
            XCTAssertEqual(result.status, 200)
            XCTAssertEqual(result.y, [Double(i) + 2, Double(2 * i)], "request \(i) got another request's rows")
        }
        XCTAssertGreaterThan(all.values.map(\.batch).max() ?? 0, 1, "no request was batched")
        XCTAssertGreaterThan(model.largestBatch.withLock { $0 }, 1)
    }

    func testShutdownRefusesNewRequests() {
        let (router, executor) = makeRouter()
        executor.shutdown()
        let body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}"
        XCTAssertEqual(Self.post(router, "/v2/models/stats/infer", Array(body.utf8)).status, 503)
    }
}
