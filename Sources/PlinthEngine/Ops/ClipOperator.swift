/// Clip: bounds from attributes before opset 11, from optional inputs since.
struct ClipOperator: Operator {
    let minAttr: Float
    let maxAttr: Float
    let boundsFromInputs: Bool

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (shape, x) = try frame.floatInput(io, 0)
        var lo = minAttr
        var hi = maxAttr
        if boundsFromInputs {
            if let t = frame.optionalInput(io, 1) {
                guard let v = t.floats, v.count == 1 else {
                    throw .execution(node: io.node, reason: "min must be an FP32 scalar")
                }
                lo = v[0]
            }
            if let t = frame.optionalInput(io, 2) {
                guard let v = t.floats, v.count == 1 else {
                    throw .execution(node: io.node, reason: "max must be an FP32 scalar")
                }
                hi = v[0]
            }
        }
        var r = frame.pool.floats(x.count)
        for i in 0..<x.count { r[i] = min(max(x[i], lo), hi) }
        frame.setOutput(io, 0, Tensor(shape: shape, floats: r))
    }
}
