import Foundation
import PlinthEngine
import XCTest

/// Decoding and validation at load: wire-format variants, unsupported operators, hostile files.
final class ModelLoadingTests: XCTestCase {
    private func reluModel(packedDims: Bool = false) -> [UInt8] {
        OnnxBuilder.model(
            nodes: [OnnxBuilder.node("Relu", ["x"], ["y"])], inputs: [OnnxBuilder.floatValue("x", [nil, 3])],
            outputs: [OnnxBuilder.floatValue("y", [nil, 3])])
    }

    func testSimpleModelLoadsAndRuns() throws {
        let model = try InferenceModel(bytes: reluModel(), directory: nil)
        XCTAssertEqual(model.inputs, [TensorSignature(name: "x", type: .float32, shape: [-1, 3])])
        XCTAssertEqual(model.opsetImports, ["": 17])
        let y = try model.run(["x": Tensor(shape: [1, 3], floats: [-1, 0, 2])])
        XCTAssertEqual(y["y"]?.floats, [0, 0, 2])
    }

    func testPackedAndUnpackedRepeatedFieldsDecodeAlike() throws {
        for packed in [false, true] {
            let perm = OnnxBuilder.intsAttribute("perm", [1, 0], packed: packed)
            var permName = perm
            permName.bytes = perm.bytes
            let w = OnnxBuilder.floatTensor(
                "w", dims: [2, 3], values: [1, 2, 3, 4, 5, 6], raw: packed, packedDims: packed)
            let bytes = OnnxBuilder.model(
                nodes: [
                    OnnxBuilder.node("Transpose", ["w"], ["t"], attributes: [permName]),
                    OnnxBuilder.node("Add", ["x", "t"], ["y"]),
                ],
                inputs: [OnnxBuilder.floatValue("x", [3, 2])], outputs: [OnnxBuilder.floatValue("y", [3, 2])],
                initializers: [w])
            let model = try InferenceModel(bytes: bytes, directory: nil)
            let y = try model.run(["x": Tensor(shape: [3, 2], floats: [0, 0, 0, 0, 0, 0])])
            XCTAssertEqual(y["y"]?.floats, [1, 4, 2, 5, 3, 6], "packed: \(packed)")
        }
    }

    func testNegativeAttributeIntsAreTenByteVarints() throws {
        var axis = ProtoWriter()
        axis.string(1, "axis")
        axis.int(20, 2)
        axis.int(3, -1)
        XCTAssertEqual(axis.bytes.count, (2 + 4) + (2 + 1) + (1 + 10))  // name, type, and i = -1 as ten bytes
        let bytes = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("Softmax", ["x"], ["y"], attributes: [axis])],
            inputs: [OnnxBuilder.floatValue("x", [1, 2])], outputs: [OnnxBuilder.floatValue("y", [1, 2])])
        let y = try InferenceModel(bytes: bytes, directory: nil).run(["x": Tensor(shape: [1, 2], floats: [0, 0])])
        XCTAssertEqual(y["y"]?.floats, [0.5, 0.5])
    }

    func testAllUnsupportedOperatorsAreListedAtLoad() {
        let bytes = OnnxBuilder.model(
            nodes: [
                OnnxBuilder.node("Relu", ["x"], ["a"]), OnnxBuilder.node("NonMaxSuppression", ["a"], ["b"]),
                OnnxBuilder.node("Loop", ["b"], ["c"]),
                OnnxBuilder.node("Frobnicate", ["c"], ["y"], domain: "com.example"),
            ],
            inputs: [OnnxBuilder.floatValue("x", [1])], outputs: [OnnxBuilder.floatValue("y", [1])])
        XCTAssertThrowsError(try InferenceModel(bytes: bytes, directory: nil)) { error in
            XCTAssertEqual(
                error as? EngineError,
                .unsupportedOperators([
                    UnsupportedOperator(name: "NonMaxSuppression", domain: "", opset: 17),
                    UnsupportedOperator(name: "Loop", domain: "", opset: 17),
                    UnsupportedOperator(name: "Frobnicate", domain: "com.example", opset: 0),
                ]))
        }
    }

    func testOneUnsupportedOperatorIsNamedWithDomainAndOpset() {
        let bytes = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("SVMClassifier", ["x"], ["y"], domain: "ai.onnx.ml")],
            inputs: [OnnxBuilder.floatValue("x", [1])], outputs: [OnnxBuilder.floatValue("y", [1])],
            opsets: [("", 17), ("ai.onnx.ml", 3)])
        XCTAssertThrowsError(try InferenceModel(bytes: bytes, directory: nil)) { error in
            XCTAssertEqual(
                error as? EngineError, .unsupportedOperator(name: "SVMClassifier", domain: "ai.onnx.ml", opset: 3))
        }
    }

    func testOperatorNewerThanItsOpsetIsUnsupported() {
        let bytes = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("Gelu", ["x"], ["y"])], inputs: [OnnxBuilder.floatValue("x", [1])],
            outputs: [OnnxBuilder.floatValue("y", [1])], opsets: [("", 17)])
        XCTAssertThrowsError(try InferenceModel(bytes: bytes, directory: nil)) { error in
            XCTAssertEqual(error as? EngineError, .unsupportedOperator(name: "Gelu", domain: "", opset: 17))
        }
    }

    func testCyclesAndUndefinedInputsAreRejected() {
        let cycle = OnnxBuilder.model(
            nodes: [
                OnnxBuilder.node("Add", ["x", "b"], ["a"]), OnnxBuilder.node("Relu", ["a"], ["b"]),
                OnnxBuilder.node("Relu", ["a"], ["y"]),
            ],
            inputs: [OnnxBuilder.floatValue("x", [1])], outputs: [OnnxBuilder.floatValue("y", [1])])
        let undefined = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("Add", ["x", "ghost"], ["y"])],
            inputs: [OnnxBuilder.floatValue("x", [1])], outputs: [OnnxBuilder.floatValue("y", [1])])
        let twice = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("Relu", ["x"], ["y"]), OnnxBuilder.node("Relu", ["x"], ["y"])],
            inputs: [OnnxBuilder.floatValue("x", [1])], outputs: [OnnxBuilder.floatValue("y", [1])])
        for (name, bytes, needle) in [
            ("cycle", cycle, "cycle"), ("undefined", undefined, "ghost"), ("twice", twice, "more than once"),
        ] {
            XCTAssertThrowsError(try InferenceModel(bytes: bytes, directory: nil), name) { error in
                guard case .malformed(let m)? = error as? EngineError else { return XCTFail("\(name): \(error)") }
                XCTAssert(m.contains(needle), "\(name): \(m)")
            }
        }
    }

    func testEveryTruncationIsAnErrorNotACrash() throws {
        let bytes = reluModel()
        var rejected = 0
        for n in 0..<bytes.count {
            do {
                _ = try InferenceModel(bytes: Array(bytes[..<n]), directory: nil)
            } catch is EngineError {
                rejected += 1
            }
        }
        // Only cuts at a top-level field boundary leave a well-formed message (the opset import is last).
        XCTAssertGreaterThanOrEqual(rejected, bytes.count - 12)
    }

    func testAbsurdDimsAreRejectedWithoutAllocating() {
        let huge = OnnxBuilder.floatTensor("w", dims: [1 << 40, 1 << 40], values: [1])
        let negative = OnnxBuilder.floatTensor("w", dims: [-4], values: [1])
        let mismatch = OnnxBuilder.floatTensor("w", dims: [1000], values: [1, 2])
        for t in [huge, negative, mismatch] {
            let bytes = OnnxBuilder.model(
                nodes: [OnnxBuilder.node("Add", ["x", "w"], ["y"])], inputs: [OnnxBuilder.floatValue("x", [1])],
                outputs: [OnnxBuilder.floatValue("y", [1])], initializers: [t])
            XCTAssertThrowsError(try InferenceModel(bytes: bytes, directory: nil)) { error in
                guard case .malformed? = error as? EngineError else { return XCTFail("\(error)") }
            }
        }
    }

    func testGarbledLengthIsMalformed() {
        var bytes = reluModel()
        bytes[1] = 0xFF  // the graph's length now points far past the end
        XCTAssertThrowsError(try InferenceModel(bytes: bytes, directory: nil)) { error in
            guard case .malformed? = error as? EngineError else { return XCTFail("\(error)") }
        }
    }

    func testDeeplyNestedGraphAttributesAreRejected() {
        var graph = ProtoWriter()
        graph.string(2, "leaf")
        for _ in 0..<200 {
            var attr = ProtoWriter()
            attr.string(1, "body")
            attr.int(20, 5)
            attr.message(6, graph)
            var node = ProtoWriter()
            node.string(4, "If")
            node.message(5, attr)
            var g = ProtoWriter()
            g.message(1, node)
            graph = g
        }
        var m = ProtoWriter()
        m.message(7, graph)
        XCTAssertThrowsError(try InferenceModel(bytes: m.bytes, directory: nil)) { error in
            guard case .malformed(let msg)? = error as? EngineError else { return XCTFail("\(error)") }
            XCTAssert(msg.contains("nested"), msg)
        }
    }

    func testStaticShapeMismatchFailsAtLoad() {
        let w = OnnxBuilder.floatTensor("w", dims: [3, 4], values: [Float](repeating: 1, count: 12))
        let bytes = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("MatMul", ["x", "w"], ["y"])], inputs: [OnnxBuilder.floatValue("x", [nil, 5])],
            outputs: [OnnxBuilder.floatValue("y", [nil, 4])], initializers: [w])
        XCTAssertThrowsError(try InferenceModel(bytes: bytes, directory: nil)) { error in
            guard case .malformed(let m)? = error as? EngineError else { return XCTFail("\(error)") }
            XCTAssert(m.contains("shape check"), m)
        }
    }

    func testModelNeedingAnEvenBatchStillLoads() throws {
        let shape = OnnxBuilder.int64Tensor("s", dims: [2], values: [-1, 8])
        let bytes = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("Reshape", ["x", "s"], ["y"])], inputs: [OnnxBuilder.floatValue("x", [nil, 4])],
            outputs: [OnnxBuilder.floatValue("y", [nil, 8])], initializers: [shape])
        let model = try InferenceModel(bytes: bytes, directory: nil)
        let y = try model.run(["x": Tensor(shape: [2, 4], floats: [Float](repeating: 1, count: 8))])
        XCTAssertEqual(y["y"]?.shape, [1, 8])
    }

    func testDoublePrecisionTreeAttributesAreRefusedNotApproximated() {
        var attr = ProtoWriter()
        attr.string(1, "nodes_values_as_tensor")
        attr.int(20, 4)
        attr.message(5, OnnxBuilder.floatTensor("", dims: [1], values: [0.5]))
        let bytes = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("TreeEnsembleRegressor", ["x"], ["y"], domain: "ai.onnx.ml", attributes: [attr])],
            inputs: [OnnxBuilder.floatValue("x", [nil, 2])], outputs: [OnnxBuilder.floatValue("y", [nil, 1])],
            opsets: [("", 17), ("ai.onnx.ml", 3)])
        XCTAssertThrowsError(try InferenceModel(bytes: bytes, directory: nil)) { error in
            guard case .unsupportedFeature(let m)? = error as? EngineError else { return XCTFail("\(error)") }
            XCTAssert(m.contains("nodes_values_as_tensor"), m)
        }
    }
}

/// ai.onnx.ml Scaler's two shapes of parameters: per feature, and one value for all features
/// (or none), over several rows.
final class ScalerOperatorTests: XCTestCase {
    private func floatsAttribute(_ name: String, _ values: [Float]) -> ProtoWriter {
        var a = ProtoWriter()
        a.string(1, name)
        a.floats(7, values, packed: true)
        a.int(20, 6)  // FLOATS
        return a
    }

    private func scaler(offset: [Float], scale: [Float]) throws -> InferenceModel {
        var attributes: [ProtoWriter] = []
        if !offset.isEmpty { attributes.append(floatsAttribute("offset", offset)) }
        if !scale.isEmpty { attributes.append(floatsAttribute("scale", scale)) }
        let bytes = OnnxBuilder.model(
            nodes: [OnnxBuilder.node("Scaler", ["x"], ["y"], domain: "ai.onnx.ml", attributes: attributes)],
            inputs: [OnnxBuilder.floatValue("x", [nil, 3])], outputs: [OnnxBuilder.floatValue("y", [nil, 3])],
            opsets: [("", 17), ("ai.onnx.ml", 1)])
        return try InferenceModel(bytes: bytes, directory: nil)
    }

    func testPerFeatureAndBroadcastParametersScaleEveryRow() throws {
        let x: [Float] = [0.5, -1.25, 3, 7.1, 0.3, -2]
        let cases: [([Float], [Float])] = [
            ([0.1, 0.2, 0.3], [2, 0.5, -1]), ([0.7], [1.5]), ([0.7], []), ([], [3, 2, 1]),
        ]
        for (offset, scale) in cases {
            let model = try scaler(offset: offset, scale: scale)
            let y = try XCTUnwrap(try model.run(["x": Tensor(shape: [2, 3], floats: x)])["y"]?.floats)
            let expected = x.indices.map { i -> Float in
                let o: Float = offset.isEmpty ? 0 : offset[offset.count == 1 ? 0 : i % 3]
                let s: Float = scale.isEmpty ? 1 : scale[scale.count == 1 ? 0 : i % 3]
                return (x[i] - o) * s
            }
            XCTAssertEqual(y.map(\.bitPattern), expected.map(\.bitPattern), "offset \(offset) scale \(scale)")
        }
    }
}
