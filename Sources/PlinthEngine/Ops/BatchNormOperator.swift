/// BatchNormalization in inference mode, folded at load into per-channel scale and shift.
struct BatchNormOperator: Operator {
    let scale: [Float]
    let shift: [Float]

    init(_ ctx: NodeContext) throws(EngineError) {
        guard ctx.int("training_mode", 0) == 0 else { throw .unsupportedFeature("BatchNormalization in training mode") }
        guard let s = ctx.constantInputs[1]?.floats, let b = ctx.constantInputs[2]?.floats,
            let mean = ctx.constantInputs[3]?.floats, let variance = ctx.constantInputs[4]?.floats,
            s.count == b.count, s.count == mean.count, s.count == variance.count
        else { throw ctx.error("scale, B, mean and var must be constant FP32 vectors of one length") }
        let eps = ctx.float("epsilon", 1e-5)
        var sc = [Float](repeating: 0, count: s.count)
        var sh = sc
        for i in 0..<s.count {
            sc[i] = s[i] / (variance[i] + eps).squareRoot()
            sh[i] = b[i] - mean[i] * sc[i]
        }
        scale = sc
        shift = sh
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        guard xs.count >= 2, xs[1] == scale.count else {
            throw .execution(node: io.node, reason: "input \(xs) does not have \(scale.count) channels")
        }
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
