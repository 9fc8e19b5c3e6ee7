import PlinthEngine
import XCTest

/// Operators that walk raw pointers must not touch an empty input's (absent) storage.
final class EmptyInputTests: XCTestCase {
    private func attribute(_ name: String, type: Int64, _ fill: (inout ProtoWriter) -> Void) -> ProtoWriter {
        var a = ProtoWriter()
        a.string(1, name)
        a.int(20, type)
        fill(&a)
        return a
    }

    func testPoolingAnEmptyImageIntoPaddingGivesTheEmptyWindowValue() throws {
        for (op, expected) in [("MaxPool", -Float.infinity), ("AveragePool", 0)] {
            let bytes = OnnxBuilder.model(
                nodes: [
                    OnnxBuilder.node(
                        op, ["x"], ["y"],
                        attributes: [
                            OnnxBuilder.intsAttribute("kernel_shape", [2, 2], packed: true),
                            OnnxBuilder.intsAttribute("pads", [1, 1, 1, 1], packed: true),
                        ])
                ],
                inputs: [OnnxBuilder.floatValue("x", [nil, 1, nil, nil])],
                outputs: [OnnxBuilder.floatValue("y", [nil, 1, nil, nil])])
            let model = try InferenceModel(bytes: bytes, directory: nil)
            let y = try model.run(["x": Tensor(shape: [1, 1, 0, 0], floats: [])])
            XCTAssertEqual(y["y"]?.shape, [1, 1, 1, 1], op)
            XCTAssertEqual(y["y"]?.floats, [expected], op)
        }
    }

    func testLeafOnlyTreeEnsembleRunsOnRowsWithoutFeatures() throws {
        let ints = { (name: String, values: [Int64]) in
            self.attribute(name, type: 7) { $0.ints(8, values, packed: false) }
        }
        let node = OnnxBuilder.node(
            "TreeEnsembleRegressor", ["x"], ["y"], domain: "ai.onnx.ml",
            attributes: [
                ints("nodes_treeids", [0]), ints("nodes_nodeids", [0]), ints("nodes_featureids", [0]),
                ints("nodes_truenodeids", [0]), ints("nodes_falsenodeids", [0]),
                attribute("nodes_values", type: 6) { $0.floats(7, [0], packed: false) },
                attribute("nodes_modes", type: 8) { $0.string(9, "LEAF") },
                ints("target_treeids", [0]), ints("target_nodeids", [0]), ints("target_ids", [0]),
                attribute("target_weights", type: 6) { $0.floats(7, [2.5], packed: false) },
                attribute("n_targets", type: 2) { $0.int(3, 1) },
            ])
        let bytes = OnnxBuilder.model(
            nodes: [node], inputs: [OnnxBuilder.floatValue("x", [nil, 0])],
            outputs: [OnnxBuilder.floatValue("y", [nil, 1])], opsets: [("", 17), ("ai.onnx.ml", 1)])
        let model = try InferenceModel(bytes: bytes, directory: nil)
        for rows in [0, 1, 3, 9] {
            let y = try model.run(["x": Tensor(shape: [rows, 0], floats: [])])
            XCTAssertEqual(y["y"]?.shape, [rows, 1])
            XCTAssertEqual(y["y"]?.floats, [Float](repeating: 2.5, count: rows))
        }
    }
}
