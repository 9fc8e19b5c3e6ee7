import XCTest

@testable import PlinthRuntime

/// `InferenceService.checkInputs` puts a request's inputs in the model's order (the positional
/// hot path after it relies on that): as given when already in order, reordered otherwise, with
/// the same errors either way.
final class InferenceServiceInputsTests: XCTestCase {
    /// Two inputs, a [-1, 2] FP32 and b [-1] INT64; its outputs echo its inputs in order.
    final class TwoInputModel: ServedModel {
        let inputs = [
            TensorSpec(name: "a", datatype: .fp32, shape: [-1, 2]),
            TensorSpec(name: "b", datatype: .int64, shape: [-1]),
        ]
        let outputs = [
            TensorSpec(name: "a", datatype: .fp32, shape: [-1, 2]),
            TensorSpec(name: "b", datatype: .int64, shape: [-1]),
        ]
        func run(_ inputs: [WireTensor]) throws -> [WireTensor] { inputs }
    }

    let a = WireTensor(name: "a", datatype: .fp32, shape: [1, 2], data: .float32([1, 2]))
    let b = WireTensor(name: "b", datatype: .int64, shape: [1], data: .int64([3]))

    func testInputsComeOutInTheModelsOrderWithTheSameErrors() throws {
        let model = TwoInputModel()
        let executor = BatchingExecutor(model: model, maxBatch: 1, maxDelayMicros: 0, concurrency: 1)
        defer { executor.shutdown() }
        let service = InferenceService(name: "two", version: "1", model: model, executor: executor)
        XCTAssertEqual(try service.checkInputs([a, b]), [a, b])
        XCTAssertEqual(try service.checkInputs([b, a]), [a, b])
        var wrongType = b
        wrongType.datatype = .fp32
        let table: [([WireTensor], String)] = [
            ([a], "missing input 'b' (INT64 [-1])"),
            ([b], "missing input 'a' (FP32 [-1, 2])"),
            (
                [a, WireTensor(name: "c", datatype: .fp32, shape: [1], data: .float32([1]))],
                "unknown input 'c'; the model's inputs are 'a' (FP32 [-1, 2]), 'b' (INT64 [-1])"
            ),
            ([a, wrongType], "input 'b' has datatype FP32; the model expects INT64"),
            ([wrongType, a], "input 'b' has datatype FP32; the model expects INT64"),
            (
                [WireTensor(name: "a", datatype: .fp32, shape: [2], data: .float32([1, 2])), b],
                "input 'a' has shape [2]; the model expects [-1, 2] (-1: any size)"
            ),
        ]
        for (inputs, message) in table {
            XCTAssertThrowsError(try service.checkInputs(inputs), message) { error in
                XCTAssertEqual(error as? InferenceError, .inputMismatch(message))
            }
        }
        // End to end through the batcher: outputs are matched to the model's outputs by position.
        let body = Array(
            #"{"inputs":[{"name":"b","shape":[1],"datatype":"INT64","data":[3]},{"name":"a","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"b"}]}"#
                .utf8)
        let answer = try service.infer(body: body, jsonLength: nil)
        let text = String(decoding: answer.encoded.body, as: UTF8.self)
        XCTAssertTrue(text.hasSuffix(#""outputs":[{"name":"b","datatype":"INT64","shape":[1],"data":[3]}]}"#), text)
    }
}
