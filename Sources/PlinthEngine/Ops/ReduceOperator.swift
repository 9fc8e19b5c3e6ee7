/// ReduceMean, ReduceSum, ReduceMax, ReduceMin with axes from the attribute (before opset 18,
/// before 13 for ReduceSum) or the optional second input.
struct ReduceOperator: Operator {
    enum Kind: String, Sendable { case mean = "ReduceMean", sum = "ReduceSum", max = "ReduceMax", min = "ReduceMin" }
    let kind: Kind
    let attrAxes: [Int]?
    let keepDims: Bool
    let noopWithEmptyAxes: Bool

    /// The opset from which this reduction takes its axes as an input.
    static func axesInputOpset(_ kind: Kind) -> Int { kind == .sum ? 13 : 18 }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        var given = attrAxes
        if given == nil, let t = frame.optionalInput(io, 1) { given = try Shapes.ints(t, node: io.node) }
        if (given ?? []).isEmpty && noopWithEmptyAxes {
            frame.setOutput(io, 0, Tensor(shape: xs, floats: x))
            return
        }
        var axes = Set<Int>()
        for a in given ?? [] { axes.insert(try Shapes.normalizeAxis(a, rank: xs.count, node: io.node)) }
        if axes.isEmpty { axes = Set(0..<xs.count) }
        var keptShape = xs
        for a in axes { keptShape[a] = 1 }
        let n = keptShape.reduce(1, *)
        let initial: Float
        switch kind {
        case .mean, .sum: initial = 0
        case .max: initial = -.infinity
        case .min: initial = .infinity
        }
        var acc = [Float](repeating: initial, count: n)
        // Strides of the reduced shape against the input: reduced axes get stride 0.
        let st = [Broadcast.strides(keptShape, in: xs)]
        switch kind {
        case .mean, .sum: Broadcast.forEach(out: xs, strides: st) { i, o in acc[o[0]] += x[i] }
        case .max: Broadcast.forEach(out: xs, strides: st) { i, o in acc[o[0]] = Swift.max(acc[o[0]], x[i]) }
        case .min: Broadcast.forEach(out: xs, strides: st) { i, o in acc[o[0]] = Swift.min(acc[o[0]], x[i]) }
        }
        if kind == .mean {
            let count = Float(axes.reduce(1) { $0 * xs[$1] })
            for i in 0..<n { acc[i] /= Swift.max(count, 1) }
        }
        let outShape = keepDims ? keptShape : xs.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        frame.setOutput(io, 0, Tensor(shape: outShape, floats: acc))
    }
}
