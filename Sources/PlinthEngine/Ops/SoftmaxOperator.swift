#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Softmax and LogSoftmax: before opset 13 over the input coerced to 2-D at `axis`, since then along one axis.
struct SoftmaxOperator: Operator {
    let axis: Int
    let log: Bool
    let coerce2D: Bool

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (shape, x) = try frame.floatInput(io, 0)
        let rank = shape.count
        let a = rank == 0 ? 0 : try Shapes.normalizeAxis(axis, rank: rank, node: io.node)
        let outer: Int
        let length: Int
        let inner: Int
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
