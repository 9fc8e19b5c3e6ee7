/// LayerNormalization over the dimensions from `axis` on; optional Mean and InvStdDev outputs.
struct LayerNormOperator: Operator {
    let axis: Int
    let epsilon: Float

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        let a = try Shapes.normalizeAxis(axis, rank: xs.count, node: io.node)
        let outer = Shapes.product(xs[..<a])
        let size = Shapes.product(xs[a...])
        let (ss, s) = try frame.floatInput(io, 1)
        let bias = frame.optionalInput(io, 2)?.floats
        guard s.count == size || s.count == 1, bias == nil || bias!.count == size || bias!.count == 1 else {
            throw .execution(node: io.node, reason: "scale \(ss) does not match normalized size \(size)")
        }
        var y = frame.pool.floats(x.count)
        var means = [Float](repeating: 0, count: outer)
        var invs = means
        for o in 0..<outer {
            let base = o * size
            var mean: Float = 0
            for i in 0..<size { mean += x[base + i] }
            mean /= Float(max(size, 1))
            var v: Float = 0
            for i in 0..<size {
                let d = x[base + i] - mean
                v += d * d
            }
            v /= Float(max(size, 1))
            let inv = 1 / (v + epsilon).squareRoot()
            means[o] = mean
            invs[o] = inv
            for i in 0..<size {
                let sc = s.count == 1 ? s[0] : s[i]
                let b = bias.map { $0.count == 1 ? $0[0] : $0[i] } ?? 0
                y[base + i] = (x[base + i] - mean) * inv * sc + b
            }
        }
        frame.setOutput(io, 0, Tensor(shape: xs, floats: y))
        let statShape = Array(xs[..<a]) + [Int](repeating: 1, count: xs.count - a)
        frame.setOutput(io, 1, Tensor(shape: statShape, floats: means))
        frame.setOutput(io, 2, Tensor(shape: statShape, floats: invs))
    }
}
