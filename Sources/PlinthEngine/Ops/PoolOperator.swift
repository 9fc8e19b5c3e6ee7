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
        let planes = n * c
        guard planes > 0, oh > 0, ow > 0, !x.isEmpty else {
            // An empty image (h or w 0) padded to a non-empty output: no window sees an input value.
            y.withUnsafeMutableBufferPointer { $0.update(repeating: isMax ? -.infinity : 0) }
            frame.setOutput(io, 0, Tensor(shape: outShape, floats: y))
            return
        }
        // The 2×2 stride-2 max pool of most CNNs, every window inside the input: no clipping at all.
        if isMax && kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && pt == 0 && pl == 0
            && 2 * oh <= h && 2 * ow <= w
        {
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    for plane in 0..<planes {
                        let src = px.baseAddress! + plane * h * w
                        var dst = py.baseAddress! + plane * oh * ow
                        for oy in 0..<oh {
                            let r0 = src + 2 * oy * w
                            let r1 = r0 + w
                            for ox in 0..<ow {
                                let i = 2 * ox
                                dst[ox] = Self.maxStep(
                                    Self.maxStep(Self.maxStep(Self.maxStep(-.infinity, r0[i]), r0[i + 1]), r1[i]),
                                    r1[i + 1])
                            }
                            dst += ow
                        }
                    }
                }
            }
            frame.setOutput(io, 0, Tensor(shape: outShape, floats: y))
            return
        }
        // Per output column, the kernel columns whose input column lies inside the image, so the
        // hot loop has no bounds tests.
        var columnRanges = [Int](repeating: 0, count: 2 * ow)
        for ox in 0..<ow {
            let range = Self.validTaps(start: ox * sw - pl, dilation: dw, kernel: kw, size: w)
            columnRanges[2 * ox] = range.lo
            columnRanges[2 * ox + 1] = range.hi
        }
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                columnRanges.withUnsafeBufferPointer { cr in
                    for plane in 0..<planes {
                        let src = px.baseAddress! + plane * h * w
                        var dst = py.baseAddress! + plane * oh * ow
                        for oy in 0..<oh {
                            let y0 = oy * sh - pt
                            let rows = Self.validTaps(start: y0, dilation: dh, kernel: kh, size: h)
                            for ox in 0..<ow {
                                let x0 = ox * sw - pl
                                let (kxLo, kxHi) = (cr[2 * ox], cr[2 * ox + 1])
                                if isMax {
                                    var best = -Float.infinity
                                    var ky = rows.lo
                                    while ky < rows.hi {
                                        let row = src + (y0 + ky * dh) * w + x0
                                        var kx = kxLo
                                        while kx < kxHi {
                                            best = Self.maxStep(best, row[kx * dw])
                                            kx += 1
                                        }
                                        ky += 1
                                    }
                                    dst[ox] = best
                                } else {
                                    var sum: Float = 0
                                    var ky = rows.lo
                                    while ky < rows.hi {
                                        let row = src + (y0 + ky * dh) * w + x0
                                        var kx = kxLo
                                        while kx < kxHi {
                                            sum += row[kx * dw]
                                            kx += 1
                                        }
                                        ky += 1
                                    }
                                    var count = max(0, rows.hi - rows.lo) * max(0, kxHi - kxLo)
                                    if countIncludePad {
                                        // The window clipped to the padded extent (ceil_mode may run past it).
                                        let hEnd = min(y0 + (kh - 1) * dh + 1, h + pb)
                                        let wEnd = min(x0 + (kw - 1) * dw + 1, w + pr)
                                        count = ((hEnd - y0 + dh - 1) / dh) * ((wEnd - x0 + dw - 1) / dw)
                                    }
                                    dst[ox] = count > 0 ? sum / Float(count) : 0
                                }
                            }
                            dst += ow
                        }
                    }
                }
            }
        }
        frame.setOutput(io, 0, Tensor(shape: outShape, floats: y))
    }
}

extension PoolOperator {
    /// One step of the running maximum, as `Swift.max(best, v)` computes it (a NaN `v` is skipped).
    @inline(__always)
    static func maxStep(_ best: Float, _ v: Float) -> Float { v >= best ? v : best }

    /// Kernel taps k in lo..<hi with start + k·dilation inside 0..<size (hi ≤ lo when none).
    @inline(__always)
    static func validTaps(start: Int, dilation: Int, kernel: Int, size: Int) -> (lo: Int, hi: Int) {
        let lo = start < 0 ? (-start + dilation - 1) / dilation : 0
        let hi = size - start <= 0 ? 0 : min(kernel, (size - start + dilation - 1) / dilation)
        return (lo, hi)
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
