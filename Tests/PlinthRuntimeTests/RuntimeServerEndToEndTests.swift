import Dispatch
import Foundation
import PlinthHTTP
import Synchronization
import XCTest

@testable import PlinthRuntime

/// `RuntimeServer` over a real Unix socket with real ONNX models, checked against onnxruntime's
/// outputs recorded in the engine's vectors.
final class RuntimeServerEndToEndTests: XCTestCase {
    var server: RuntimeServer?
    var socketPath = ""
    let client = HTTPClient()

    override func tearDown() {
        server?.shutdown()
        server?.wait()
        unlink(socketPath)
    }

    func start(_ vector: EngineVector, name: String, maxBatch: Int = 16, maxDelayMicros: Int = 100_000) throws {
        socketPath = "/tmp/plinth-rt-\(UUID().uuidString.prefix(8)).sock"
        let configuration = RuntimeConfiguration(
            modelPath: vector.modelPath, name: name, listen: .unix(path: socketPath),
            maxBatch: maxBatch, maxDelayMicros: maxDelayMicros, threads: 1)
        let server = try RuntimeServer(configuration: configuration)
        _ = try server.start()
        self.server = server
    }

    func send(_ method: HTTPMethod, _ path: String, _ body: [UInt8] = [], headers: HTTPHeaders = [:]) throws
        -> HTTPClientResponse
    {
        try client.send(
            HTTPClientRequest(method: method, path: path, headers: headers, body: body),
            to: .unix(path: socketPath))
    }

    static func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func assertClose(
        _ got: [Double], _ want: [Float], _ label: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(got.count, want.count, label, file: file, line: line)
        for (g, w) in zip(got, want) where abs(g - Double(w)) > 1e-4 + 1e-4 * abs(Double(w)) {
            XCTFail("\(label): got \(g) want \(w)", file: file, line: line)
            return
        }
    }

    func testMLPOverJSONBatchesConcurrentRequestsAndMatchesOnnxruntime() throws {
        let vector = try EngineVector.load("mlp_784_256_128_10")
        try start(vector, name: "mlp")
        XCTAssertEqual(try send(.GET, "/v2/health/ready").status, 200)
        let metadata = try Self.jsonObject(try send(.GET, "/v2/models/mlp").body)
        XCTAssertEqual((metadata["inputs"] as? [[String: Any]])?.first?["shape"] as? [Int], [-1, 784])
        let all = try inferRowsConcurrently(vector)
        XCTAssertGreaterThan(all.values.map(\.batch).max() ?? 0, 1, "concurrent requests were not batched")
    }

    /// With no batching delay an idle batcher's request is computed on the event loop itself;
    /// concurrent ones fall back to the pool. Every row must still get its own right answer.
    func testMLPWithoutBatchDelayComputesOnTheLoopOrThePoolAndMatchesOnnxruntime() throws {
        let vector = try EngineVector.load("mlp_784_256_128_10")
        try start(vector, name: "mlp", maxDelayMicros: 0)
        for _ in 0..<3 { _ = try inferRowsConcurrently(vector) }
    }

    /// Sends each row of the vector's input as its own request, all at once; checks each answer.
    @discardableResult
    func inferRowsConcurrently(_ vector: EngineVector) throws -> [Int: (status: Int, batch: Int, output: [Double])] {
        let input = vector.inputs[0].floats
        let expected = vector.outputs[0].floats
        let rows = vector.inputs[0].shape[0]
        let width = 784
        let classes = 10
        let results = Mutex<[Int: (status: Int, batch: Int, output: [Double])]>([:])
        let client = self.client
        let socketPath = self.socketPath
        DispatchQueue.concurrentPerform(iterations: rows) { row in
            let values = input[row * width..<(row + 1) * width].map { "\($0)" }.joined(separator: ",")
            let body =
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,784],\"datatype\":\"FP32\",\"data\":[\(values)]}]}"
            let response = try? client.send(
                HTTPClientRequest(method: .POST, path: "/v2/models/mlp/infer", body: Array(body.utf8)),
                to: .unix(path: socketPath))
            let object = response.flatMap { try? Self.jsonObject($0.body) }
            let output = (object?["outputs"] as? [[String: Any]])?.first?["data"] as? [Double] ?? []
            results.withLock {
                $0[row] = (response?.status ?? -1, Int(response?.headers["Plinth-Batch-Size"] ?? "") ?? 0, output)
            }
        }
        let all = results.withLock { $0 }
        for row in 0..<rows {
            let result = try XCTUnwrap(all[row])
            XCTAssertEqual(result.status, 200)
            Self.assertClose(result.output, Array(expected[row * classes..<(row + 1) * classes]), "row \(row)")
        }
        return all
    }

    func testMLPOverBinaryTensorsMatchesOnnxruntime() throws {
        let vector = try EngineVector.load("mlp_784_256_128_10")
        try start(vector, name: "mlp", maxDelayMicros: 0)
        let header = """
            {"id":"b","inputs":[{"name":"input","shape":\(vector.inputs[0].shape),"datatype":"FP32",
            "parameters":{"binary_data_size":\(vector.inputs[0].bytes.count)}}],
            "outputs":[{"name":"output","parameters":{"binary_data":true}}]}
            """
        let response = try send(
            .POST, "/v2/models/mlp/versions/1/infer", Array(header.utf8) + vector.inputs[0].bytes,
            headers: [
                "Inference-Header-Content-Length": String(header.utf8.count),
                "Content-Type": "application/octet-stream",
            ])
        XCTAssertEqual(response.status, 200)
        let length = try XCTUnwrap(response.headers["Inference-Header-Content-Length"].flatMap { Int($0) })
        let json = try Self.jsonObject(Array(response.body[0..<length]))
        XCTAssertEqual(json["id"] as? String, "b")
        XCTAssertEqual(response.headers["Plinth-Batch-Size"], String(vector.inputs[0].shape[0]))
        let tail = EngineVector.Tensor(name: "", datatype: "FP32", shape: [], bytes: Array(response.body[length...]))
        Self.assertClose(tail.floats.map(Double.init), vector.outputs[0].floats, "binary output")
    }

    func testLogisticRegressionReturnsLabelsAndProbabilities() throws {
        let vector = try EngineVector.load("logreg_30")
        try start(vector, name: "logreg")
        let metadata = try Self.jsonObject(try send(.GET, "/v2/models/logreg").body)
        let outputs = try XCTUnwrap(metadata["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.map { $0["name"] as? String }, vector.outputs.map(\.name))

        let input = vector.inputs[0].floats
        let rows = vector.inputs[0].shape[0]
        let labels = try XCTUnwrap(vector.outputs.first { $0.name == "output_label" }).int64s
        let probabilities = try XCTUnwrap(vector.outputs.first { $0.name == "output_probability" }).floats
        let results = Mutex<[Int: (label: [Int], datatype: String, probability: [Double])]>([:])
        let client = self.client
        let socketPath = self.socketPath
        DispatchQueue.concurrentPerform(iterations: rows) { row in
            let values = input[row * 30..<(row + 1) * 30].map { "\($0)" }.joined(separator: ",")
            let body = "{\"inputs\":[{\"name\":\"X\",\"shape\":[1,30],\"datatype\":\"FP32\",\"data\":[\(values)]}]}"
            let response = try? client.send(
                HTTPClientRequest(method: .POST, path: "/v2/models/logreg/infer", body: Array(body.utf8)),
                to: .unix(path: socketPath))
            guard let response, response.status == 200, let object = try? Self.jsonObject(response.body),
                let outputs = object["outputs"] as? [[String: Any]],
                let label = outputs.first(where: { $0["name"] as? String == "output_label" }),
                let probability = outputs.first(where: { $0["name"] as? String == "output_probability" })
            else { return }
            let parsed = (
                label: label["data"] as? [Int] ?? [], datatype: label["datatype"] as? String ?? "",
                probability: probability["data"] as? [Double] ?? []
            )
            results.withLock { $0[row] = parsed }
        }
        let all = results.withLock { $0 }
        XCTAssertEqual(all.count, rows)
        for row in 0..<rows {
            let result = try XCTUnwrap(all[row])
            XCTAssertEqual(result.datatype, "INT64")
            XCTAssertEqual(result.label, [Int(labels[row])], "row \(row)")
            Self.assertClose(result.probability, Array(probabilities[row * 2..<row * 2 + 2]), "row \(row)")
        }
    }

    func testWrongShapeOverTheSocketIs400() throws {
        let vector = try EngineVector.load("logreg_30")
        try start(vector, name: "logreg")
        let body = "{\"inputs\":[{\"name\":\"X\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}"
        let response = try send(.POST, "/v2/models/logreg/infer", Array(body.utf8))
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(String(decoding: response.body, as: UTF8.self).contains("the model expects [-1, 30]"))
    }

    /// A body over the inline limit (64 KiB) is decoded and run off the event loop; it gets the
    /// same answer as a small one, and small requests are served meanwhile.
    func testLargeBodyIsServedOffTheLoopWithTheSameAnswer() throws {
        let vector = try EngineVector.load("mlp_784_256_128_10")
        try start(vector, name: "mlp", maxDelayMicros: 0)
        let values = vector.inputs[0].floats[0..<784].map { "\($0)" }.joined(separator: ",")
        let small = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,784],\"datatype\":\"FP32\",\"data\":[\(values)]}]}"
        // The same request padded with JSON whitespace past the limit.
        let large = small.replacingOccurrences(of: ",", with: ", " + String(repeating: " ", count: 100))
        XCTAssertGreaterThan(large.utf8.count, RuntimeRoutes.inlineMaxBodyBytes)
        let expected = Array(vector.outputs[0].floats[0..<10])
        let bodies = Mutex<[Int: [Double]]>([:])
        let (client, socketPath) = (self.client, self.socketPath)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let response = try? client.send(
                HTTPClientRequest(
                    method: .POST, path: "/v2/models/mlp/infer", body: Array((i % 2 == 0 ? large : small).utf8)),
                to: .unix(path: socketPath))
            let object = response.flatMap { try? Self.jsonObject($0.body) }
            let output = (object?["outputs"] as? [[String: Any]])?.first?["data"] as? [Double] ?? []
            bodies.withLock { $0[i] = output }
        }
        for (i, output) in bodies.withLock({ $0 }) { Self.assertClose(output, expected, "request \(i)") }
        XCTAssertEqual(bodies.withLock { $0.count }, 8)
    }
}
