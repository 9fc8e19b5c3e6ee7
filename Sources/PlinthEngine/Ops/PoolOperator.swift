/// MaxPool and AveragePool over 2-D windows (NCHW).
struct PoolOperator: Operator {
    let window: Window
    let isMax: Bool
    let countIncludePad: Bool

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        guard xs.count == 4 else {
            throw .execution(node: io.node, reason: "only 2-D pooling (4-D input) is supported, got \(xs)")
        }
        let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3])
        let (oh, pt) = window.geometry(axis: 0, input: h)
        let (ow, pl) = window.geometry(axis: 1, input: w)
        let pb = window.padEnd(axis: 0, input: h, out: oh, padBegin: pt)
        let pr = window.padEnd(axis: 1, input: w, out: ow, padBegin: pl)
        let outShape = [n, c, oh, ow]
        var y = try frame.floatBuffer(io, shape: outShape)
        let (kh, kw) = (window.kernel[0], window.kernel[1])
        let (sh, sw, dh, dw) = (window.strides[0], window.strides[1], window.dilations[0], window.dilations[1])
        for plane in 0..<(n * c) {
            let src = plane * h * w
            let dst = plane * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let y0 = oy * sh - pt
                    let x0 = ox * sw - pl
                    if isMax {
                        var best = -Float.infinity
                        for ky in 0..<kh {
                            let iy = y0 + ky * dh
                            guard iy >= 0 && iy < h else { continue }
                            for kx in 0..<kw {
                                let ix = x0 + kx * dw
                                guard ix >= 0 && ix < w else { continue }
                                best = max(best, x[src + iy * w + ix])
                            }
                        }
                        y[dst + oy * ow + ox] = best
                    } else {
                        var sum: Float = 0
                        var count = 0
                        for ky in 0..<kh {
                            let iy = y0 + ky * dh
                            guard iy >= 0 && iy < h else { continue }
                            for kx in 0..<kw {
                                let ix = x0 + kx * dw
                                guard ix >= 0 && ix < w else { continue }
                                sum += x[src + iy * w + ix]
                                count += 1
                            }
                        }
                        if countIncludePad {
                            // The window clipped to the padded extent (ceil_mode may run past it).
                            let hEnd = min(y0 + (kh - 1) * dh + 1, h + pb)
                            let wEnd = min(x0 + (kw - 1) * dw + 1, w + pr)
                            count = ((hEnd - y0 + dh - 1) / dh) * ((wEnd - x0 + dw - 1) / dw)
                        }
                        y[dst + oy * ow + ox] = count > 0 ? sum / Float(count) : 0
                    }
                }
            }
        }
        frame.setOutput(io, 0, Tensor(shape: outShape, floats: y))
    }
}

/// GlobalAveragePool: the mean over all spatial dimensions, kept as size-1 dimensions.
struct GlobalAveragePoolOperator: Operator {
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        guard xs.count >= 3 else { throw .execution(node: io.node, reason: "input must be at least 3-D, got \(xs)") }
        let planes = xs[0] * xs[1]
        let size = Shapes.product(xs[2...])
        let outShape = [xs[0], xs[1]] + [Int](repeating: 1, count: xs.count - 2)
        var y = frame.pool.floats(planes)
        for p in 0..<planes {
            var s: Float = 0
            for i in 0..<size { s += x[p * size + i] }
            y[p] = size > 0 ? s / Float(size) : 0
        }
        frame.setOutput(io, 0, Tensor(shape: outShape, floats: y))
    }
}
