#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Elementwise float functions: Relu, LeakyRelu, Sigmoid, Tanh, Erf, Sqrt, Gelu (exact and tanh),
/// Neg, Abs, Exp, Log, Reciprocal, Floor, Ceil.
struct UnaryOperator: Operator {
    enum Kind: Sendable {
        case relu
        case leakyRelu(Float)
        case sigmoid, tanh, erf, sqrt, gelu, geluTanh
        case neg, abs, exp, log, reciprocal, floor, ceil
    }
    let kind: Kind

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (shape, x) = try frame.floatInput(io, 0)
        var r = frame.pool.floats(x.count)
        x.withUnsafeBufferPointer { px in
            r.withUnsafeMutableBufferPointer { pr in
                switch kind {
                case .relu: for i in 0..<px.count { pr[i] = max(px[i], 0) }
                case .leakyRelu(let alpha):
                    for i in 0..<px.count {
                        let v = px[i]
                        pr[i] = v >= 0 ? v : v * alpha
                    }
                case .sigmoid:
                    for i in 0..<px.count {
                        let v = px[i]
                        // Stable for large |v|: never exp of a large positive number.
                        if v >= 0 {
                            pr[i] = 1 / (1 + expf(-v))
                        } else {
                            let e = expf(v)
                            pr[i] = e / (1 + e)
                        }
                    }
                case .tanh: for i in 0..<px.count { pr[i] = tanhf(px[i]) }
                case .erf: for i in 0..<px.count { pr[i] = erff(px[i]) }
                case .sqrt: for i in 0..<px.count { pr[i] = sqrtf(px[i]) }
                case .neg: for i in 0..<px.count { pr[i] = -px[i] }
                case .abs: for i in 0..<px.count { pr[i] = Swift.abs(px[i]) }
                case .exp: for i in 0..<px.count { pr[i] = expf(px[i]) }
                case .log: for i in 0..<px.count { pr[i] = logf(px[i]) }
                case .reciprocal: for i in 0..<px.count { pr[i] = 1 / px[i] }
                case .floor: for i in 0..<px.count { pr[i] = floorf(px[i]) }
                case .ceil: for i in 0..<px.count { pr[i] = ceilf(px[i]) }
                case .gelu:
                    for i in 0..<px.count {
                        let v = px[i]
                        pr[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752))
                    }
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
