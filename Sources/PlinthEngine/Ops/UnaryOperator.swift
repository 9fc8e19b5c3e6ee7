#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Elementwise float functions: Relu, LeakyRelu, Sigmoid, Tanh, Erf, Sqrt, Gelu, Clip.
struct UnaryOperator: Operator {
    enum Kind: Sendable {
        case relu, leakyRelu(Float), sigmoid, tanh, erf, sqrt, gelu, geluTanh
    }
    let kind: Kind

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (shape, x) = try frame.floatInput(io, 0)
        var r = frame.pool.floats(x.count)
        x.withUnsafeBufferPointer { px in
            r.withUnsafeMutableBufferPointer { pr in
                switch kind {
                case .relu: for i in 0..<px.count { pr[i] = max(px[i], 0) }
                case .leakyRelu(let alpha): for i in 0..<px.count { let v = px[i]; pr[i] = v >= 0 ? v : v * alpha }
                case .sigmoid:
                    for i in 0..<px.count {
                        let v = px[i]
                        // Stable for large |v|: never exp of a large positive number.
                        if v >= 0 { pr[i] = 1 / (1 + expf(-v)) } else { let e = expf(v); pr[i] = e / (1 + e) }
                    }
                case .tanh: for i in 0..<px.count { pr[i] = tanhf(px[i]) }
                case .erf: for i in 0..<px.count { pr[i] = erff(px[i]) }
                case .sqrt: for i in 0..<px.count { pr[i] = sqrtf(px[i]) }
                case .gelu: for i in 0..<px.count { let v = px[i]; pr[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
                case .geluTanh:
                    for i in 0..<px.count {
                        let v = px[i]
                        pr[i] = 0.5 * v * (1 + tanhf(0.79788456080286536 * (v + 0.044715 * v * v * v)))
                    }
                }
            }
        }
        frame.setOutput(io, 0, Tensor(shape: shape, floats: r))
    }
}

/// Clip: bounds from attributes before opset 11, from optional inputs since.
struct ClipOperator: Operator {
    let minAttr: Float
    let maxAttr: Float
    let boundsFromInputs: Bool

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (shape, x) = try frame.floatInput(io, 0)
        var lo = minAttr, hi = maxAttr
        if boundsFromInputs {
            if let t = frame.optionalInput(io, 1) {
                guard let v = t.floats, v.count == 1 else { throw .execution(node: io.node, reason: "min must be an FP32 scalar") }
                lo = v[0]
            }
            if let t = frame.optionalInput(io, 2) {
                guard let v = t.floats, v.count == 1 else { throw .execution(node: io.node, reason: "max must be an FP32 scalar") }
                hi = v[0]
            }
        }
        var r = frame.pool.floats(x.count)
        for i in 0..<x.count { r[i] = min(max(x[i], lo), hi) }
        frame.setOutput(io, 0, Tensor(shape: shape, floats: r))
    }
}

/// Identity, Dropout (inference) and ZipMap's data path: the input passes through unchanged.
struct IdentityOperator: Operator {
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        frame.setOutput(io, 0, try frame.input(io, 0))
        if frame.wantsOutput(io, 1) {
            // Dropout's mask output: all true in inference.
            let t = try frame.input(io, 0)
            frame.setOutput(io, 1, Tensor(shape: t.shape, bools: [Bool](repeating: true, count: t.elementCount)))
        }
    }
}

/// Softmax and LogSoftmax: before opset 13 over the input coerced to 2-D at `axis`, since then along one axis.
struct SoftmaxOperator: Operator {
    let axis: Int
    let log: Bool
    let coerce2D: Bool

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (shape, x) = try frame.floatInput(io, 0)
        let rank = shape.count
        let a = rank == 0 ? 0 : try Shapes.normalizeAxis(axis, rank: rank, node: io.node)
        let outer: Int, length: Int, inner: Int
        if coerce2D {
            outer = Shapes.product(shape[..<min(a, rank)])
            length = Shapes.product(shape[min(a, rank)...])
            inner = 1
        } else {
            outer = Shapes.product(shape[..<a])
            length = rank == 0 ? 1 : shape[a]
            inner = rank == 0 ? 1 : Shapes.product(shape[(a + 1)...])
        }
        var r = frame.pool.floats(x.count)
        x.withUnsafeBufferPointer { px in
            r.withUnsafeMutableBufferPointer { pr in
                for o in 0..<outer {
                    for j in 0..<inner {
                        let base = o * length * inner + j
                        var m = -Float.infinity
                        for k in 0..<length { m = max(m, px[base + k * inner]) }
                        var sum: Float = 0
                        for k in 0..<length {
                            let e = expf(px[base + k * inner] - m)
                            pr[base + k * inner] = e
                            sum += e
                        }
                        if log {
                            let ls = logf(sum)
                            for k in 0..<length { pr[base + k * inner] = px[base + k * inner] - m - ls }
                        } else {
                            let inv = 1 / sum
                            for k in 0..<length { pr[base + k * inner] *= inv }
                        }
                    }
                }
            }
        }
        frame.setOutput(io, 0, Tensor(shape: shape, floats: r))
    }
}
