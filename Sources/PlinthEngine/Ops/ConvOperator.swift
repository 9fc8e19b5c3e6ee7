/// 2-D convolution as im2col + KernelDispatch.sgemm, with groups, pads, strides, dilations, auto_pad.
struct ConvOperator: Operator {
    let declaredWindow: Window
    let group: Int
    /// Weights [M, C/group, kH, kW] when constant (the usual case); otherwise read per run.
    let weights: Tensor?
    /// Per group, the constant weights packed as B = W_gᵀ [C/g·kH·kW × M/g], so that
    /// outᵀ[pixels × M/g] = im2colᵀ[pixels × K] · B with the bias added per column by the kernel.
    let packedGroups: [PackedMatrix]?

    init(declaredWindow: Window, group: Int, weights: Tensor?) {
        self.declaredWindow = declaredWindow
        self.group = group
        self.weights = weights
        if let weights, let w = weights.floats, weights.shape.count == 4, group > 0, weights.shape[0] % group == 0,
            !w.isEmpty
        {
            let mg = weights.shape[0] / group
            let kdim = weights.shape[1] * weights.shape[2] * weights.shape[3]
            packedGroups =
                mg > 0 && kdim > 0
                ? w.withUnsafeBufferPointer { pw in
                    (0..<group).map { g in
                        KernelDispatch.packB(
                            k: kdim, n: mg, b: pw.baseAddress! + g * mg * kdim, ldb: kdim, transposed: true)
                    }
                } : nil
        } else {
            packedGroups = nil
        }
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
        if let packedGroups {
            let geometry = Geometry(
                c: c, h: h, w: wd, cg: cg, kh: kh, kw: kw, oh: oh, ow: ow, padTop: padTop, padLeft: padLeft,
                sh: window.strides[0], sw: window.strides[1], dh: window.dilations[0], dw: window.dilations[1])
            try runPacked(&frame, io, x: x, y: &y, n: n, m: m, bias: bias, packed: packedGroups, g: geometry)
            frame.setOutput(io, 0, Tensor(shape: outShape, floats: y))
            return
        }
        let direct =
            kh == 1 && kw == 1 && window.strides == [1, 1] && padTop == 0 && padLeft == 0 && oh == h && ow == wd
        var col = direct ? [] : frame.pool.floats(colCount)
        let (sh, sw, dh, dw) = (window.strides[0], window.strides[1], window.dilations[0], window.dilations[1])
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
                                        // Row r = (channel, ky, kx); column = output pixel.
                                        for ch in 0..<cg {
                                            for ky in 0..<kh {
                                                for kx in 0..<kw {
                                                    let row = pc.baseAddress! + ((ch * kh + ky) * kw + kx) * pixels
                                                    for oy in 0..<oh {
                                                        let iy = oy * sh - padTop + ky * dh
                                                        let dst = row + oy * ow
                                                        if iy < 0 || iy >= h {
                                                            for ox in 0..<ow { dst[ox] = 0 }
                                                            continue
                                                        }
                                                        let src = input + (ch * h + iy) * wd
                                                        for ox in 0..<ow {
                                                            let ix = ox * sw - padLeft + kx * dw
                                                            dst[ox] = ix >= 0 && ix < wd ? src[ix] : 0
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                        source = UnsafePointer(pc.baseAddress!)
                                    }
                                    let out = py.baseAddress! + (b * m + g * mg) * pixels
                                    KernelDispatch.sgemm(
                                        m: mg, n: pixels, k: kdim, a: pw.baseAddress! + g * mg * kdim, lda: kdim,
                                        b: source, ldb: pixels, c: out, ldc: pixels, accumulate: false, bias: nil)
                                    if let bias {
                                        for oc in 0..<mg {
                                            let v = bias[g * mg + oc]
                                            let row = out + oc * pixels
                                            for i in 0..<pixels { row[i] += v }
                                        }
                                    }
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

extension ConvOperator {
    struct Geometry {
        let c, h, w, cg, kh, kw, oh, ow, padTop, padLeft, sh, sw, dh, dw: Int
    }

    /// The pre-packed path: im2col with one row per output pixel, one GEMM per group, then a transpose to NCHW.
    private func runPacked(
        _ frame: inout Frame, _ io: StepIO, x: [Float], y: inout [Float], n: Int, m: Int, bias: [Float]?,
        packed: [PackedMatrix], g: Geometry
    ) throws(EngineError) {
        let kdim = g.cg * g.kh * g.kw
        let pixels = g.oh * g.ow
        let mg = m / group
        guard pixels > 0, mg > 0 else { return }
        guard let colCount = Tensor.count(of: [pixels, kdim]) else {
            throw .execution(node: io.node, reason: "im2col too large")
        }
        var col = frame.pool.floats(colCount)
        var outT = frame.pool.floats(pixels * mg)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                col.withUnsafeMutableBufferPointer { pc in
                    outT.withUnsafeMutableBufferPointer { po in
                        for b in 0..<n {
                            for grp in 0..<group {
                                let input = px.baseAddress! + (b * g.c + grp * g.cg) * g.h * g.w
                                for oy in 0..<g.oh {
                                    for ox in 0..<g.ow {
                                        var dst = pc.baseAddress! + (oy * g.ow + ox) * kdim
                                        for ch in 0..<g.cg {
                                            let plane = input + ch * g.h * g.w
                                            for ky in 0..<g.kh {
                                                let iy = oy * g.sh - g.padTop + ky * g.dh
                                                if iy < 0 || iy >= g.h {
                                                    for kx in 0..<g.kw { dst[kx] = 0 }
                                                } else {
                                                    let row = plane + iy * g.w
                                                    for kx in 0..<g.kw {
                                                        let ix = ox * g.sw - g.padLeft + kx * g.dw
                                                        dst[kx] = ix >= 0 && ix < g.w ? row[ix] : 0
                                                    }
                                                }
                                                dst += g.kw
                                            }
                                        }
                                    }
                                }
                                if let bias {
                                    bias.withUnsafeBufferPointer { pb in
                                        KernelDispatch.sgemm(
                                            m: pixels, a: pc.baseAddress!, lda: kdim, packed: packed[grp],
                                            c: po.baseAddress!, ldc: mg,
                                            bias: pb.baseAddress! + grp * mg)
                                    }
                                } else {
                                    KernelDispatch.sgemm(
                                        m: pixels, a: pc.baseAddress!, lda: kdim, packed: packed[grp],
                                        c: po.baseAddress!, ldc: mg, bias: nil)
                                }
                                let out = py.baseAddress! + (b * m + grp * mg) * pixels
                                for p in 0..<pixels {
                                    for oc in 0..<mg { out[oc * pixels + p] = po[p * mg + oc] }
                                }
                            }
                        }
                    }
                }
            }
        }
        frame.pool.recycle(col)
        frame.pool.recycle(outT)
    }
}
