import Synchronization

@testable import PlinthRuntime

/// A small real model for exercising the server without the engine: for each row of x [N, 3]
/// it returns y [N, 2] = (sum of the row, 2 × first element) and label [N] = argmax of the row.
/// It records the largest batch it was run on.
final class RowStatsModel: ServedModel {
    let inputs = [TensorSpec(name: "x", datatype: .fp32, shape: [-1, 3])]
    let outputs = [
        TensorSpec(name: "y", datatype: .fp32, shape: [-1, 2]),
        TensorSpec(name: "label", datatype: .int64, shape: [-1], labels: nil),
    ]
    let largestBatch = Mutex(0)
    let runs = Mutex(0)

    func run(_ inputs: [WireTensor]) throws -> [WireTensor] {
        guard let x = inputs.first, x.name == "x", case .float32(let values) = x.data else {
            throw InferenceError.executionFailed("no x")
        }
        let rows = x.shape[0]
        largestBatch.withLock { $0 = max($0, rows) }
        runs.withLock { $0 += 1 }
        var y: [Float] = []
        var label: [Int64] = []
        for r in 0..<rows {
            let row = Array(values[r * 3..<r * 3 + 3])
            y += [row.reduce(0, +), 2 * row[0]]
            label.append(Int64(row.indices.max { row[$0] < row[$1] } ?? 0))
        }
        return [
            WireTensor(name: "y", datatype: .fp32, shape: [rows, 2], data: .float32(y)),
            WireTensor(name: "label", datatype: .int64, shape: [rows], data: .int64(label)),
        ]
    }
}
