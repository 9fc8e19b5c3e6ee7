/// 2-D convolution as im2col + KernelDispatch.sgemm, with groups, pads, strides, dilations, auto_pad.
///
/// Per image and group the input is unfolded with `KernelDispatch.im2col` into col [C/g·kH·kW, oH·oW]
/// and multiplied as out[M/g, oH·oW] = W_g[M/g, C/g·kH·kW] · col, B read in place, so the product
/// lands directly in NCHW order (no transpose). The bias is written into the output rows first and
/// the product accumulated onto it. This replaced a per-pixel im2col against pre-packed Wᵀ: on LeNet
/// that unfolding cost more than the GEMM itself (see docs/benchmarks.md, Engine).
struct ConvOperator: Operator {
    let declaredWindow: Window
    let group: Int
    /// Weights [M, C/group, kH, kW] when constant (the usual case); otherwise read per run.
    let weights: Tensor?

    init(declaredWindow: Window, group: Int, weights: Tensor?) {
        self.declaredWindow = declaredWindow
        self.group = group
        self.weights = weights
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        let wt: Tensor
        if let weights { wt = weights } else { wt = try frame.input(io, 1) }
        guard let w = wt.floats, wt.shape.count == 4 else {
            throw .execution(node: io.node, reason: "weights must be FP32 [M, C/g, kH, kW]")
        }
        guard xs.count == 4 else {
            throw .execution(node: io.node, reason: "only 2-D convolution (4-D input) is supported, got \(xs)")
        }
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (m, cg, kh, kw) = (wt.shape[0], wt.shape[1], wt.shape[2], wt.shape[3])
        let window = declaredWindow.kernel.isEmpty ? declaredWindow.with(kernel: [kh, kw]) : declaredWindow
        guard group > 0, group <= c, c == cg * group, m % group == 0, kh == window.kernel[0], kw == window.kernel[1]
        else {
            throw .execution(node: io.node, reason: "input \(xs) and weights \(wt.shape) do not fit group \(group)")
        }
        guard !x.isEmpty, !w.isEmpty else { throw .execution(node: io.node, reason: "empty input or weights") }
        var bias: [Float]?
        if let bt = frame.optionalInput(io, 2) {
            guard let b = bt.floats, b.count == m else {
                throw .execution(node: io.node, reason: "bias must be FP32 [\(m)]")
            }
            bias = b
        }
        let (oh, padTop) = window.geometry(axis: 0, input: h)
        let (ow, padLeft) = window.geometry(axis: 1, input: wd)
        let outShape = [n, m, oh, ow]
        var y = try frame.floatBuffer(io, shape: outShape)
        let kdim = cg * kh * kw
        let pixels = oh * ow
        let mg = m / group
        guard let colCount = Tensor.count(of: [kdim, pixels]) else {
            throw .execution(node: io.node, reason: "im2col too large")
        }
        let geometry = KernelDispatch.ConvolutionGeometry(
            channels: cg, height: h, width: wd, kernelH: kh, kernelW: kw, padTop: padTop, padLeft: padLeft,
            strideH: window.strides[0], strideW: window.strides[1], dilationH: window.dilations[0],
            dilationW: window.dilations[1], outH: oh, outW: ow)
        // A 1×1 kernel with unit strides and no padding reads the input planes as they are.
        let direct =
            kh == 1 && kw == 1 && window.strides == [1, 1] && padTop == 0 && padLeft == 0 && oh == h && ow == wd
        var col = direct ? [] : frame.pool.floats(colCount)
        if pixels > 0 && mg > 0 {
            x.withUnsafeBufferPointer { px in
                w.withUnsafeBufferPointer { pw in
                    y.withUnsafeMutableBufferPointer { py in
                        col.withUnsafeMutableBufferPointer { pc in
                            for b in 0..<n {
                                for g in 0..<group {
                                    let input = px.baseAddress! + (b * c + g * cg) * h * wd
                                    let source: UnsafePointer<Float>
                                    if direct {
                                        source = input
                                    } else {
                                        KernelDispatch.im2col(input, geometry, col: pc.baseAddress!)
                                        source = UnsafePointer(pc.baseAddress!)
                                    }
                                    let out = py.baseAddress! + (b * m + g * mg) * pixels
                                    if let bias {
                                        for oc in 0..<mg {
                                            (out + oc * pixels).update(repeating: bias[g * mg + oc], count: pixels)
                                        }
                                    }
                                    KernelDispatch.sgemm(
                                        m: mg, n: pixels, k: kdim, a: pw.baseAddress! + g * mg * kdim, lda: kdim,
                                        b: source, ldb: pixels, c: out, ldc: pixels, accumulate: bias != nil,
                                        bias: nil)
                                }
                            }
                        }
                    }
                }
            }
        }
        if !direct { frame.pool.recycle(col) }
        frame.setOutput(io, 0, Tensor(shape: outShape, floats: y))
    }
}
