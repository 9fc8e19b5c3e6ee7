/// MatMul with numpy semantics (1-D promotion, batch broadcasting); a constant 2-D B is packed at load.
struct MatMulOperator: Operator {
    let packed: PackedMatrix?
    /// A following `Add` of a constant [N] vector, fused into the product (packed path only).
    var bias: [Float]? = nil

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (sa, a) = try frame.floatInput(io, 0)
        guard !sa.isEmpty else { throw .execution(node: io.node, reason: "MatMul of a scalar") }
        if let packed {
            // A[..., K] · B[K, N]: all leading dimensions fold into M rows.
            let k = sa[sa.count - 1]
            guard k == packed.k else {
                throw .execution(node: io.node, reason: "A's last dimension \(k) != B's \(packed.k)")
            }
            let m = a.count / max(k, 1)
            var outShape = Array(sa.dropLast())
            outShape.append(packed.n)
            var c = try frame.floatBuffer(io, shape: outShape)
            if k == 0 {
                for i in 0..<c.count { c[i] = bias.map { $0[i % $0.count] } ?? 0 }
            } else if m > 0 && packed.n > 0 {
                a.withUnsafeBufferPointer { pa in
                    c.withUnsafeMutableBufferPointer { pc in
                        if let bias {
                            bias.withUnsafeBufferPointer { pb in
                                KernelDispatch.sgemm(
                                    m: m, a: pa.baseAddress!, lda: k, packed: packed, c: pc.baseAddress!,
                                    ldc: packed.n, bias: pb.baseAddress!)
                            }
                        } else {
                            KernelDispatch.sgemm(
                                m: m, a: pa.baseAddress!, lda: k, packed: packed, c: pc.baseAddress!, ldc: packed.n,
                                bias: nil)
                        }
                    }
                }
            }
            frame.setOutput(io, 0, Tensor(shape: outShape, floats: c))
            return
        }
        let (sb, b) = try frame.floatInput(io, 1)
        guard !sb.isEmpty else { throw .execution(node: io.node, reason: "MatMul of a scalar") }
        let aShape = sa.count == 1 ? [1, sa[0]] : sa
        let bShape = sb.count == 1 ? [sb[0], 1] : sb
        let m = aShape[aShape.count - 2]
        let k = aShape[aShape.count - 1]
        let k2 = bShape[bShape.count - 2]
        let n = bShape[bShape.count - 1]
        guard k == k2 else { throw .execution(node: io.node, reason: "shapes \(sa) and \(sb) do not multiply") }
        let batchA = Array(aShape.dropLast(2))
        let batchB = Array(bShape.dropLast(2))
        guard let batch = Broadcast.shape([batchA, batchB]) else {
            throw .execution(node: io.node, reason: "batch dimensions \(batchA) and \(batchB) do not broadcast")
        }
        var full = batch + [m, n]
        var c = try frame.floatBuffer(io, shape: full, zeroed: true)
        let batches = batch.reduce(1, *)
        let stA = Broadcast.strides(batchA, in: batch)
        let stB = Broadcast.strides(batchB, in: batch)
        var offsets: [(Int, Int)] = []
        Broadcast.forEach(out: batch, strides: [stA, stB]) { _, o in offsets.append((o[0], o[1])) }
        if m > 0 && n > 0 && k > 0 {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        for i in 0..<batches {
                            KernelDispatch.sgemm(
                                m: m, n: n, k: k, a: pa.baseAddress! + offsets[i].0 * m * k, lda: k,
                                b: pb.baseAddress! + offsets[i].1 * k * n, ldb: n,
                                c: pc.baseAddress! + i * m * n, ldc: n, accumulate: false, bias: nil)
                        }
                    }
                }
            }
        }
        if sa.count == 1 { full.remove(at: full.count - 2) }
        if sb.count == 1 { full.removeLast() }
        frame.setOutput(io, 0, Tensor(shape: full, floats: c))
    }
}

/// Gemm: Y = alpha·op(A)·op(B) + beta·C, with C broadcast to [M, N]; a constant B is packed at load.
struct GemmOperator: Operator {
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool
    let packed: PackedMatrix?

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (sa, a0) = try frame.floatInput(io, 0)
        guard sa.count == 2 else { throw .execution(node: io.node, reason: "A must be 2-D, got \(sa)") }
        var a = a0
        var m = sa[0]
        var k = sa[1]
        if transA {
            swap(&m, &k)
            var t = frame.pool.floats(a0.count)
            for i in 0..<m { for p in 0..<k { t[i * k + p] = a0[p * m + i] } }
            a = t
        }
        let n: Int
        var bData: [Float] = []
        if let packed {
            guard packed.k == k else {
                throw .execution(node: io.node, reason: "A's inner dimension \(k) != B's \(packed.k)")
            }
            n = packed.n
        } else {
            let (sb, b) = try frame.floatInput(io, 1)
            guard sb.count == 2 else { throw .execution(node: io.node, reason: "B must be 2-D, got \(sb)") }
            let kb = transB ? sb[1] : sb[0]
            n = transB ? sb[0] : sb[1]
            guard kb == k else { throw .execution(node: io.node, reason: "A's inner dimension \(k) != B's \(kb)") }
            if transB {
                bData = [Float](repeating: 0, count: b.count)
                for p in 0..<k { for j in 0..<n { bData[p * n + j] = b[j * k + p] } }
            } else {
                bData = b
            }
        }
        var c = try frame.floatBuffer(io, shape: [m, n], zeroed: true)
        let cIn = frame.optionalInput(io, 2)
        var biasRow: [Float]?
        if let cIn, beta != 0 {
            guard let cv = cIn.floats else { throw .execution(node: io.node, reason: "C must be FP32") }
            guard let bs = Broadcast.shape([cIn.shape, [m, n]]), bs == [m, n] else {
                throw .execution(node: io.node, reason: "C \(cIn.shape) does not broadcast to [\(m), \(n)]")
            }
            if alpha == 1, beta == 1, cv.count == n, cIn.shape.last == n || n == 1 {
                biasRow = cv
            } else {
                let st = [Broadcast.strides(cIn.shape, in: [m, n])]
                Broadcast.forEach(out: [m, n], strides: st) { i, o in c[i] = beta * cv[o[0]] }
            }
        }
        if m > 0 && n > 0 && k > 0 {
            let accumulate = cIn != nil && beta != 0 && biasRow == nil
            if alpha != 1 {
                // Scale A by alpha so C's pre-filled beta·C term stays unscaled.
                for i in 0..<a.count { a[i] *= alpha }
            }
            a.withUnsafeBufferPointer { pa in
                c.withUnsafeMutableBufferPointer { pc in
                    let bias = biasRow
                    if let packed, !accumulate {
                        if let bias {
                            bias.withUnsafeBufferPointer { pbias in
                                KernelDispatch.sgemm(
                                    m: m, a: pa.baseAddress!, lda: k, packed: packed, c: pc.baseAddress!, ldc: n,
                                    bias: pbias.baseAddress!)
                            }
                        } else {
                            KernelDispatch.sgemm(
                                m: m, a: pa.baseAddress!, lda: k, packed: packed, c: pc.baseAddress!, ldc: n, bias: nil)
                        }
                    } else if let packed {
                        // Packed B with a general C: compute into a scratch product, then add.
                        var scratch = [Float](repeating: 0, count: m * n)
                        scratch.withUnsafeMutableBufferPointer { ps in
                            KernelDispatch.sgemm(
                                m: m, a: pa.baseAddress!, lda: k, packed: packed, c: ps.baseAddress!, ldc: n, bias: nil)
                            for i in 0..<(m * n) { pc[i] += ps[i] }
                        }
                    } else {
                        bData.withUnsafeBufferPointer { pb in
                            if let bias {
                                bias.withUnsafeBufferPointer { pbias in
                                    KernelDispatch.sgemm(
                                        m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                                        c: pc.baseAddress!, ldc: n, accumulate: false, bias: pbias.baseAddress!)
                                }
                            } else {
                                KernelDispatch.sgemm(
                                    m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                                    c: pc.baseAddress!, ldc: n, accumulate: accumulate, bias: nil)
                            }
                        }
                    }
                }
            }
        } else if let biasRow {
            for i in 0..<m { for j in 0..<n { c[i * n + j] = biasRow[j] } }
        }
        if transA { frame.pool.recycle(a) }
        frame.setOutput(io, 0, Tensor(shape: [m, n], floats: c))
    }
}
