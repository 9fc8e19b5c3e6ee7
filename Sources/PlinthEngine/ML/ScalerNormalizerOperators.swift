/// ai.onnx.ml Scaler: (x - offset) · scale, per feature or broadcast.
struct ScalerOperator: Operator {
    let offset: [Float]
    let scale: [Float]

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let t = try frame.input(io, 0)
        let (_, f, x) = try FeatureRows.read(frame, io)
        guard offset.count <= 1 || offset.count == f, scale.count <= 1 || scale.count == f else {
            throw .execution(node: io.node, reason: "offset/scale do not fit \(f) features")
        }
        var y = frame.pool.floats(x.count)
        // Per feature over unsafe buffers: no division or bounds check per element; the same
        // arithmetic per element, so results are unchanged.
        let perFeature = offset.count > 1 || scale.count > 1
        y.withUnsafeMutableBufferPointer { y in
            x.withUnsafeBufferPointer { x in
                offset.withUnsafeBufferPointer { offset in
                    scale.withUnsafeBufferPointer { scale in
                        let o0: Float = offset.isEmpty ? 0 : offset[0]
                        let s0: Float = scale.isEmpty ? 1 : scale[0]
                        guard perFeature, f > 0 else {
                            for i in 0..<x.count { y[i] = (x[i] - o0) * s0 }
                            return
                        }
                        var i = 0
                        while i < x.count {
                            for j in 0..<min(f, x.count - i) {
                                let o = offset.count > 1 ? offset[j] : o0
                                let s = scale.count > 1 ? scale[j] : s0
                                y[i + j] = (x[i + j] - o) * s
                            }
                            i += f
                        }
                    }
                }
            }
        }
        frame.setOutput(io, 0, Tensor(shape: t.shape, floats: y))
    }
}

/// ai.onnx.ml Normalizer: each row divided by its MAX, L1 or L2 norm.
struct NormalizerOperator: Operator {
    enum Norm: String, Sendable {
        case max = "MAX"
        case l1 = "L1"
        case l2 = "L2"
    }
    let norm: Norm

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let t = try frame.input(io, 0)
        let (rows, f, x) = try FeatureRows.read(frame, io)
        var y = frame.pool.floats(x.count)
        for r in 0..<rows {
            let row = x[(r * f)..<((r + 1) * f)]
            let d: Float
            switch norm {
            case .max: d = row.max() ?? 0
            case .l1: d = row.reduce(0) { $0 + abs($1) }
            case .l2: d = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            }
            for j in 0..<f { y[r * f + j] = d == 0 ? x[r * f + j] : x[r * f + j] / d }
        }
        frame.setOutput(io, 0, Tensor(shape: t.shape.count == 1 ? [1, f] : t.shape, floats: y))
    }
}
