/// ReduceMean with axes from the attribute (opset < 18) or the second input.
struct ReduceMeanOperator: Operator {
    let attrAxes: [Int]?
    let keepDims: Bool
    let noopWithEmptyAxes: Bool

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
        var sums = [Float](repeating: 0, count: n)
        let st = [Broadcast.strides(keptShape, in: xs)]
        // Strides of the reduced shape against the input: reduced axes get stride 0.
        Broadcast.forEach(out: xs, strides: st) { i, o in sums[o[0]] += x[i] }
        let count = Float(axes.reduce(1) { $0 * xs[$1] })
        for i in 0..<n { sums[i] /= max(count, 1) }
        let outShape = keepDims ? keptShape : xs.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        frame.setOutput(io, 0, Tensor(shape: outShape, floats: sums))
    }
}
