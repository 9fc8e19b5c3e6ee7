/// ArgMax along one axis (first or last index of the maximum).
struct ArgMaxOperator: Operator {
    let axis: Int
    let keepDims: Bool
    let selectLast: Bool

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let t = try frame.input(io, 0)
        let values: [Double]
        switch t.storage {
        case .float32(let v): values = v.map(Double.init)
        case .float64(let v): values = v
        case .int64(let v): values = v.map(Double.init)
        case .int32(let v): values = v.map(Double.init)
        default: throw .execution(node: io.node, reason: "ArgMax of \(t.type.rawValue)")
        }
        let xs = t.shape
        let a = try Shapes.normalizeAxis(axis, rank: xs.count, node: io.node)
        let outer = Shapes.product(xs[..<a])
        let len = xs[a]
        let inner = Shapes.product(xs[(a + 1)...])
        var r = [Int64](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for j in 0..<inner {
                var best = 0
                for k in 0..<len {
                    let v = values[(o * len + k) * inner + j]
                    let b = values[(o * len + best) * inner + j]
                    if v > b || (selectLast && v == b) { best = k }
                }
                r[o * inner + j] = Int64(best)
            }
        }
        var shape = xs
        if keepDims { shape[a] = 1 } else { shape.remove(at: a) }
        frame.setOutput(io, 0, Tensor(shape: shape, int64s: r))
    }
}
