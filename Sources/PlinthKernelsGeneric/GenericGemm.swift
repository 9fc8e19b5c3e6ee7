// Single-precision GEMM, portable build (baseline x86-64 or any other CPU).
//
// Twin of Sources/PlinthKernels/AVX2Gemm.swift, generated from it (identical except for the
// type name and `fma`, which here is a separate multiply and add: on baseline x86-64 the fused
// `addingProduct` becomes a libm `fmaf` call per lane, 0.7 GFLOP/s). Keep the two in step.
//
// Nothing here is `@inlinable`, so the code stays compiled with this module's flags.

/// The portable build of the float32 kernels, used when the CPU lacks AVX2 or FMA.
public enum GenericGemm {
    /// Columns per packed panel of B.
    public static let panelWidth = 16
    /// Depth of one pass over k; a 384×16 slice of a panel (24 KiB) stays in L1.
    static let depthBlock = 384

    /// C[m×n] (= or +=) A[m×k]·B[k×n] (+ bias[n] per row), B packed by the caller in panels of
    /// `panelWidth` columns: panel p holds columns 16p..<16p+16 as k consecutive rows of 16
    /// floats, zero padded past n; panels follow each other (k·16 floats apart).
    public static func sgemmPacked(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int,
        packedB: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        multiply(
            m: m, n: n, k: k, a: a, lda: lda, b: packedB, panelStride: 16 * k, ldb: 16, edgePanel: nil,
            c: c, ldc: ldc, accumulate: accumulate, bias: bias)
    }

    /// The same product with B as it is, row-major with leading dimension `ldb`: whole 16-column
    /// panels are read in place (no packing pass); a last partial panel is copied, zero padded.
    public static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        guard m > 0, n > 0 else { return }
        let edgeColumns = n % 16
        guard edgeColumns != 0, k > 0 else {
            multiply(
                m: m, n: n, k: k, a: a, lda: lda, b: b, panelStride: 16, ldb: ldb, edgePanel: nil,
                c: c, ldc: ldc, accumulate: accumulate, bias: bias)
            return
        }
        let edge = UnsafeMutablePointer<Float>.allocate(capacity: k * 16)
        defer { edge.deallocate() }
        edge.initialize(repeating: 0, count: k * 16)
        let j0 = n - edgeColumns
        for p in 0..<k {
            let src = b + p * ldb + j0
            let dst = edge + p * 16
            for j in 0..<edgeColumns { dst[j] = src[j] }
        }
        multiply(
            m: m, n: n, k: k, a: a, lda: lda, b: b, panelStride: 16, ldb: ldb, edgePanel: UnsafePointer(edge),
            c: c, ldc: ldc, accumulate: accumulate, bias: bias)
    }

    /// Panel p of B starts at `b + p·panelStride` with rows `ldb` apart, except that a last
    /// partial panel is read from `edgePanel` (rows 16 apart) when given.
    static func multiply(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, panelStride: Int, ldb: Int, edgePanel: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            fillWithoutProduct(m: m, n: n, c: c, ldc: ldc, accumulate: accumulate, bias: bias)
            return
        }
        let panels = (n + 15) / 16
        var k0 = 0
        while k0 < k {
            let kc = min(depthBlock, k - k0)
            let first = k0 == 0
            let loadC = !first || accumulate
            for panel in 0..<panels {
                let j0 = panel * 16
                let cols = min(16, n - j0)
                let (base, stride): (UnsafePointer<Float>, Int) =
                    if cols < 16, let edgePanel { (edgePanel, 16) } else { (b + panel * panelStride, ldb) }
                let bp = base + k0 * stride
                let panelBias: UnsafePointer<Float>? = first ? bias.map { $0 + j0 } : nil
                var i = 0
                while i + 6 <= m {
                    kernel6(kc, a + i * lda + k0, lda, bp, stride, c + i * ldc + j0, ldc, cols, loadC, panelBias)
                    i += 6
                }
                if m - i >= 4 {
                    kernel4(kc, a + i * lda + k0, lda, bp, stride, c + i * ldc + j0, ldc, cols, loadC, panelBias)
                    i += 4
                }
                if m - i >= 2 {
                    kernel2(kc, a + i * lda + k0, lda, bp, stride, c + i * ldc + j0, ldc, cols, loadC, panelBias)
                    i += 2
                }
                if m - i == 1 {
                    kernel1(kc, a + i * lda + k0, bp, stride, c + i * ldc + j0, cols, loadC, panelBias)
                }
            }
            k0 += kc
        }
    }

    /// k == 0: the product is empty, only the bias (and C when accumulating) remain.
    static func fillWithoutProduct(
        m: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        for i in 0..<m {
            let row = c + i * ldc
            for j in 0..<n {
                let base: Float = accumulate ? row[j] : 0
                row[j] = base + (bias?[j] ?? 0)
            }
        }
    }

    @inline(__always)
    static func fma(_ acc: SIMD16<Float>, _ a: Float, _ b: SIMD16<Float>) -> SIMD16<Float> {
        acc + a * b
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Loads `cols` (≤ 16) floats, zero in the other lanes.
    @inline(__always)
    static func loadPartial(_ p: UnsafePointer<Float>, _ cols: Int) -> SIMD16<Float> {
        if cols == 16 { return load(p) }
        var v = SIMD16<Float>()
        for j in 0..<cols { v[j] = p[j] }
        return v
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ cols: Int) {
        if cols == 16 {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
        } else {
            for j in 0..<cols { p[j] = v[j] }
        }
    }

    /// Starting value of one accumulator row: bias (or zero), plus C when accumulating.
    @inline(__always)
    static func start(
        _ c: UnsafeMutablePointer<Float>, _ cols: Int, _ loadC: Bool, _ bias: SIMD16<Float>
    ) -> SIMD16<Float> {
        loadC ? loadPartial(c, cols) + bias : bias
    }

    static func kernel6(
        _ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ cols: Int, _ loadC: Bool, _ bias: UnsafePointer<Float>?
    ) {
        let bv = bias.map { loadPartial($0, cols) } ?? SIMD16<Float>()
        var c0 = start(c, cols, loadC, bv)
        var c1 = start(c + ldc, cols, loadC, bv)
        var c2 = start(c + 2 * ldc, cols, loadC, bv)
        var c3 = start(c + 3 * ldc, cols, loadC, bv)
        var c4 = start(c + 4 * ldc, cols, loadC, bv)
        var c5 = start(c + 5 * ldc, cols, loadC, bv)
        let a0 = a
        let a1 = a + lda
        let a2 = a + 2 * lda
        let a3 = a + 3 * lda
        let a4 = a + 4 * lda
        let a5 = a + 5 * lda
        var bp = b
        for p in 0..<kc {
            let x = load(bp)
            c0 = fma(c0, a0[p], x)
            c1 = fma(c1, a1[p], x)
            c2 = fma(c2, a2[p], x)
            c3 = fma(c3, a3[p], x)
            c4 = fma(c4, a4[p], x)
            c5 = fma(c5, a5[p], x)
            bp += ldb
        }
        store(c0, c, cols)
        store(c1, c + ldc, cols)
        store(c2, c + 2 * ldc, cols)
        store(c3, c + 3 * ldc, cols)
        store(c4, c + 4 * ldc, cols)
        store(c5, c + 5 * ldc, cols)
    }

    static func kernel4(
        _ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ cols: Int, _ loadC: Bool, _ bias: UnsafePointer<Float>?
    ) {
        let bv = bias.map { loadPartial($0, cols) } ?? SIMD16<Float>()
        var c0 = start(c, cols, loadC, bv)
        var c1 = start(c + ldc, cols, loadC, bv)
        var c2 = start(c + 2 * ldc, cols, loadC, bv)
        var c3 = start(c + 3 * ldc, cols, loadC, bv)
        let a0 = a
        let a1 = a + lda
        let a2 = a + 2 * lda
        let a3 = a + 3 * lda
        var bp = b
        for p in 0..<kc {
            let x = load(bp)
            c0 = fma(c0, a0[p], x)
            c1 = fma(c1, a1[p], x)
            c2 = fma(c2, a2[p], x)
            c3 = fma(c3, a3[p], x)
            bp += ldb
        }
        store(c0, c, cols)
        store(c1, c + ldc, cols)
        store(c2, c + 2 * ldc, cols)
        store(c3, c + 3 * ldc, cols)
    }

    /// Two rows, k unrolled by two into separate accumulators to hide the FMA latency.
    static func kernel2(
        _ kc: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ cols: Int, _ loadC: Bool, _ bias: UnsafePointer<Float>?
    ) {
        let bv = bias.map { loadPartial($0, cols) } ?? SIMD16<Float>()
        var c0 = start(c, cols, loadC, bv)
        var c1 = start(c + ldc, cols, loadC, bv)
        var d0 = SIMD16<Float>()
        var d1 = SIMD16<Float>()
        let a0 = a
        let a1 = a + lda
        var bp = b
        var p = 0
        while p + 2 <= kc {
            let x = load(bp)
            let y = load(bp + ldb)
            c0 = fma(c0, a0[p], x)
            c1 = fma(c1, a1[p], x)
            d0 = fma(d0, a0[p + 1], y)
            d1 = fma(d1, a1[p + 1], y)
            bp += 2 * ldb
            p += 2
        }
        if p < kc {
            let x = load(bp)
            c0 = fma(c0, a0[p], x)
            c1 = fma(c1, a1[p], x)
        }
        store(c0 + d0, c, cols)
        store(c1 + d1, c + ldc, cols)
    }

    /// One row (batch-1 inference): k unrolled by four into separate accumulators.
    static func kernel1(
        _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ cols: Int, _ loadC: Bool, _ bias: UnsafePointer<Float>?
    ) {
        let bv = bias.map { loadPartial($0, cols) } ?? SIMD16<Float>()
        var c0 = start(c, cols, loadC, bv)
        var c1 = SIMD16<Float>()
        var c2 = SIMD16<Float>()
        var c3 = SIMD16<Float>()
        var bp = b
        var p = 0
        while p + 4 <= kc {
            c0 = fma(c0, a[p], load(bp))
            c1 = fma(c1, a[p + 1], load(bp + ldb))
            c2 = fma(c2, a[p + 2], load(bp + 2 * ldb))
            c3 = fma(c3, a[p + 3], load(bp + 3 * ldb))
            bp += 4 * ldb
            p += 4
        }
        while p < kc {
            c0 = fma(c0, a[p], load(bp))
            bp += ldb
            p += 1
        }
        store((c0 + c1) + (c2 + c3), c, cols)
    }
}
