// TEMPORARY naive stand-in, only on the `engine` branch, with exactly the signatures the
// kernels helper's KernelDispatch exposes. The kernels branch's file replaces this one at merge.

/// Matrix products for the engine's Gemm, MatMul and Conv.
package enum KernelDispatch {
    /// C[m×n] (=|+=) A[m×k]·B[k×n] (+ bias[n] broadcast per row when given), row-major with leading dims.
    static func sgemm(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?
    ) {
        for i in 0..<m {
            let row = c + i * ldc
            if !accumulate { for j in 0..<n { row[j] = 0 } }
            if let bias { for j in 0..<n { row[j] += bias[j] } }
            for p in 0..<k {
                let av = a[i * lda + p]
                let brow = b + p * ldb
                for j in 0..<n { row[j] += av * brow[j] }
            }
        }
    }

    /// Pre-packs a constant B[k×n] (transposeB: B given as n×k) once at load.
    static func packB(k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int, transposed: Bool) -> PackedMatrix {
        var data = [Float](repeating: 0, count: k * n)
        for p in 0..<k {
            for j in 0..<n { data[p * n + j] = transposed ? b[j * ldb + p] : b[p * ldb + j] }
        }
        return PackedMatrix(k: k, n: n, data: data)
    }

    static func sgemm(
        m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix, c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>?
    ) {
        packed.data.withUnsafeBufferPointer { pb in
            sgemm(m: m, n: packed.n, k: packed.k, a: a, lda: lda, b: pb.baseAddress!, ldb: packed.n, c: c, ldc: ldc, accumulate: false, bias: bias)
        }
    }
}

/// A constant B matrix laid out once for the kernels.
// @unchecked Sendable: immutable after init (all stored properties are `let`).
package final class PackedMatrix: @unchecked Sendable {
    let k: Int
    let n: Int
    fileprivate let data: [Float]

    fileprivate init(k: Int, n: Int, data: [Float]) {
        self.k = k
        self.n = n
        self.data = data
    }
}
