import PlinthEngine
import XCTest

/// Tree ensembles walk trees outer / rows inner, four rows in lockstep: every row must get exactly
/// the answer it gets alone, whatever the batch size and the row's position in the lockstep group.
final class TreeBatchingTests: XCTestCase {
    private static let prefixes = ["ml_tree_", "skl_random_forest", "skl_gradient_boosting", "skl_decision_tree"]

    func testTreeEnsemblesGiveEachRowTheSameAnswerAtAnyBatchSize() throws {
        var checked = 0
        for c in try VectorCase.all() where Self.prefixes.contains(where: { c.name.hasPrefix($0) }) {
            guard c.inputs.count == 1, let x = c.inputs[0].tensor.floats, c.inputs[0].tensor.shape.count == 2
            else { continue }
            let model = try InferenceModel(path: c.modelPath)
            let (rows, features) = (c.inputs[0].tensor.shape[0], c.inputs[0].tensor.shape[1])
            let full = try model.run([c.inputs[0].name: c.inputs[0].tensor])
            // Batches of 1, 3, 5 and 7 rows starting at varying offsets: lockstep groups and remainders.
            for (start, count) in [(0, 1), (rows - 1, 1), (1, 3), (2, 5), (3, 7)] where start + count <= rows {
                let slice = Array(x[(start * features)..<((start + count) * features)])
                let out = try model.run([c.inputs[0].name: Tensor(shape: [count, features], floats: slice)])
                for (name, whole) in full {
                    let part = try XCTUnwrap(out[name], "\(c.name) \(name)")
                    let width = whole.elementCount / rows
                    XCTAssertEqual(part.shape.first, count, "\(c.name) \(name)")
                    let range = (start * width)..<((start + count) * width)
                    if let w = whole.floats {
                        // Bit patterns: probit of out-of-range scores gives NaN, which must match too.
                        XCTAssertEqual(
                            part.floats?.map(\.bitPattern), w[range].map(\.bitPattern),
                            "\(c.name) \(name) rows \(start)+\(count)")
                    } else if let w = whole.int64s {
                        XCTAssertEqual(part.int64s, Array(w[range]), "\(c.name) \(name) rows \(start)+\(count)")
                    } else if let w = whole.strings {
                        XCTAssertEqual(part.strings, Array(w[range]), "\(c.name) \(name) rows \(start)+\(count)")
                    } else {
                        XCTFail("\(c.name) \(name): unexpected output type \(whole.type)")
                    }
                }
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 20)
    }
}
