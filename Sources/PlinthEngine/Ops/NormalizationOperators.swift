/// BatchNormalization in inference mode, folded at load into per-channel scale and shift.
struct BatchNormOperator: Operator {
    let scale: [Float]
    let shift: [Float]

    init(_ ctx: NodeContext) throws(EngineError) {
        guard let s = ctx.constantInputs[1]?.floats, let b = ctx.constantInputs[2]?.floats,
            let mean = ctx.constantInputs[3]?.floats, let variance = ctx.constantInputs[4]?.floats,
            s.count == b.count, s.count == mean.count, s.count == variance.count
        else { throw ctx.error("scale, B, mean and var must be constant FP32 vectors of one length") }
        let eps = ctx.float("epsilon", 1e-5)
        var sc = [Float](repeating: 0, count: s.count), sh = sc
        for i in 0..<s.count {
            sc[i] = s[i] / (variance[i] + eps).squareRoot()
            sh[i] = b[i] - mean[i] * sc[i]
        }
        scale = sc
        shift = sh
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        guard xs.count >= 2, xs[1] == scale.count else { throw .execution(node: io.node, reason: "input \(xs) does not have \(scale.count) channels") }
        let inner = Shapes.product(xs[2...])
        var y = frame.pool.floats(x.count)
        for p in 0..<(xs[0] * xs[1]) {
            let ch = p % xs[1]
            let (a, b) = (scale[ch], shift[ch])
            for i in 0..<inner { y[p * inner + i] = x[p * inner + i] * a + b }
        }
        frame.setOutput(io, 0, Tensor(shape: xs, floats: y))
    }
}

/// LayerNormalization over the dimensions from `axis` on; optional Mean and InvStdDev outputs.
struct LayerNormOperator: Operator {
    let axis: Int
    let epsilon: Float

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        let a = try Shapes.normalizeAxis(axis, rank: xs.count, node: io.node)
        let outer = Shapes.product(xs[..<a]), size = Shapes.product(xs[a...])
        let (ss, s) = try frame.floatInput(io, 1)
        let bias = frame.optionalInput(io, 2)?.floats
        guard s.count == size || s.count == 1, bias == nil || bias!.count == size || bias!.count == 1 else {
            throw .execution(node: io.node, reason: "scale \(ss) does not match normalized size \(size)")
        }
        var y = frame.pool.floats(x.count)
        var means = [Float](repeating: 0, count: outer), invs = means
        for o in 0..<outer {
            let base = o * size
            var mean: Float = 0
            for i in 0..<size { mean += x[base + i] }
            mean /= Float(max(size, 1))
            var v: Float = 0
            for i in 0..<size { let d = x[base + i] - mean; v += d * d }
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
        let outer = Shapes.product(xs[..<a]), len = xs[a], inner = Shapes.product(xs[(a + 1)...])
        var r = [Int64](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for j in 0..<inner {
                var best = 0
                for k in 0..<len {
                    let v = values[(o * len + k) * inner + j], b = values[(o * len + best) * inner + j]
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
