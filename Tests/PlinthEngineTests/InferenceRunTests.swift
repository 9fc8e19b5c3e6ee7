import Dispatch
import Foundation
import PlinthEngine
import XCTest

/// The run API: input checking, signatures, ZipMap labels, thread safety.
final class InferenceRunTests: XCTestCase {
    private func vector(_ name: String) throws -> (InferenceModel, VectorCase) {
        let c = try XCTUnwrap(try VectorCase.all().first { $0.name == name })
        return (try InferenceModel(path: c.modelPath), c)
    }

    func testOutputsAreEveryDeclaredOutput() throws {
        let (model, c) = try vector("op_equal_where")
        var feeds: [String: Tensor] = [:]
        for i in c.inputs { feeds[i.name] = i.tensor }
        XCTAssertEqual(Set(try model.run(feeds).keys), Set(model.outputs.map(\.name)))
    }

    /// The serving path's positional run gives the named run's outputs, in `outputs` order, and
    /// rejects a wrong number of inputs by naming what is missing or how many are expected.
    func testPositionalRunMatchesNamedRunAndChecksTheInputCount() throws {
        for name in ["op_equal_where", "logreg_30", "skl_random_forest_string_labels"] {
            let (model, c) = try vector(name)
            var feeds: [String: Tensor] = [:]
            for i in c.inputs { feeds[i.name] = i.tensor }
            let named = try model.run(feeds)
            let positional = try model.run(inputs: model.inputs.map { feeds[$0.name]! })
            XCTAssertEqual(positional, model.outputs.map { named[$0.name]! }, name)
        }
        let (model, c) = try vector("op_equal_where")
        XCTAssertGreaterThan(model.inputs.count, 1)
        XCTAssertThrowsError(try model.run(inputs: [c.inputs[0].tensor])) { error in
            XCTAssertEqual(
                error as? EngineError,
                .invalidInput(
                    name: model.inputs[1].name,
                    reason: "missing; expected \(model.inputs[1].type.rawValue) \(model.inputs[1].shape)"))
        }
        let extra = model.inputs.map { _ in c.inputs[0].tensor } + [c.inputs[0].tensor]
        XCTAssertThrowsError(try model.run(inputs: extra)) { error in
            guard case .invalidInput(_, let reason)? = error as? EngineError else { return XCTFail("\(error)") }
            XCTAssert(reason.contains("were given"), reason)
        }
    }

    func testStableModelsExposeTheirSignatures() throws {
        let mlp = try InferenceModel(path: VectorCase.directory + "/mlp_784_256_128_10.onnx")
        XCTAssertEqual(mlp.inputs, [TensorSignature(name: "input", type: .float32, shape: [-1, 784])])
        XCTAssertEqual(mlp.outputs, [TensorSignature(name: "output", type: .float32, shape: [-1, 10])])
        let logreg = try InferenceModel(path: VectorCase.directory + "/logreg_30.onnx")
        XCTAssertEqual(logreg.inputs.map(\.shape), [[-1, 30]])
        XCTAssertEqual(logreg.outputs.map(\.name), ["output_label", "output_probability"])
        XCTAssertEqual(logreg.outputs[1].labels, ["0", "1"])
        XCTAssertEqual(logreg.outputs[1].type, .float32)
        XCTAssertEqual(logreg.opsetImports["ai.onnx.ml"], 1)
        XCTAssert(logreg.producer.hasPrefix("skl2onnx"), logreg.producer)
    }

    func testZipMapReturnsScoresInLabelOrderWithLabels() throws {
        let (model, c) = try vector("skl_random_forest_string_labels")
        let out = try model.run([c.inputs[0].name: c.inputs[0].tensor])
        XCTAssertEqual(model.outputs[1].labels, ["setosa", "versicolor", "virginica"])
        XCTAssertEqual(out["output_probability"]?.shape, [12, 3])
        XCTAssertEqual(out["output_label"]?.strings?.count, 12)
    }

    func testWrongInputsAreInvalidInputWithWhatWasExpected() throws {
        let model = try InferenceModel(path: VectorCase.directory + "/mlp_784_256_128_10.onnx")
        let good = Tensor(shape: [1, 784], floats: [Float](repeating: 0, count: 784))
        let cases: [(String, [String: Tensor], String, String)] = [
            ("missing", [:], "input", "missing"),
            ("unknown name", ["input": good, "extra": good], "extra", "no such input"),
            (
                "wrong type", ["input": Tensor(shape: [1, 784], doubles: [Double](repeating: 0, count: 784))], "input",
                "expected datatype FP32"
            ),
            (
                "wrong shape", ["input": Tensor(shape: [1, 783], floats: [Float](repeating: 0, count: 783))], "input",
                "expected shape [-1, 784]"
            ),
            (
                "wrong rank", ["input": Tensor(shape: [784], floats: [Float](repeating: 0, count: 784))], "input",
                "expected shape"
            ),
            (
                "count mismatch", ["input": Tensor(shape: [2, 784], floats: [Float](repeating: 0, count: 784))],
                "input", "does not hold"
            ),
        ]
        for (label, feeds, name, needle) in cases {
            XCTAssertThrowsError(try model.run(feeds), label) { error in
                guard case .invalidInput(let n, let reason)? = error as? EngineError else {
                    return XCTFail("\(label): \(error)")
                }
                XCTAssertEqual(n, name, label)
                XCTAssert(reason.contains(needle), "\(label): \(reason)")
            }
        }
        XCTAssertNoThrow(try model.run(["input": good]))
    }

    func testConcurrentRunsAgreeWithSerialRuns() throws {
        for name in ["mlp_784_256_128_10", "lenet_cnn", "logreg_30", "skl_random_forest_string_labels"] {
            let (model, c) = try vector(name)
            var feeds: [String: Tensor] = [:]
            for i in c.inputs { feeds[i.name] = i.tensor }
            let expected = try model.run(feeds)
            let results = (0..<16).map { _ in ResultBox() }
            let shared = feeds
            DispatchQueue.concurrentPerform(iterations: 16) { i in
                results[i].set(try? model.run(shared))
            }
            for r in results { XCTAssertEqual(r.get(), expected, name) }
        }
    }

    func testBatchSizesVaryBetweenRuns() throws {
        let model = try InferenceModel(path: VectorCase.directory + "/lenet_cnn.onnx")
        for n in [1, 3, 1, 5] {
            let out = try model.run([
                "image": Tensor(shape: [n, 1, 28, 28], floats: [Float](repeating: 0.5, count: n * 784))
            ])
            XCTAssertEqual(out["logits"]?.shape, [n, 10])
        }
    }
}

/// A lock-protected slot for results written from concurrentPerform.
private final class ResultBox: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: [String: Tensor]?
    func set(_ v: [String: Tensor]?) {
        lock.lock()
        value = v
        lock.unlock()
    }
    func get() -> [String: Tensor]? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
