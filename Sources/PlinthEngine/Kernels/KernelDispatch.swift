import Dispatch
import Foundation
import PlinthKernels
import PlinthKernelsGeneric
import Synchronization

/// Entry points for the float32 GEMM used by MatMul, Gemm and Conv (im2col). Picks the AVX2+FMA
/// build of the kernels when the CPU has both, else the portable build, once per process.
package enum KernelDispatch {
    /// Which build of the kernels runs.
    package enum Implementation: String, Sendable, CaseIterable {
        /// PlinthKernels, compiled with `-target-cpu haswell`.
        case avx2
        /// PlinthKernelsGeneric, baseline x86-64.
        case generic
    }

    /// The build chosen for this process: AVX2+FMA when /proc/cpuinfo lists both flags, unless
    /// `PLINTH_KERNELS=generic` forces the portable one.
    package static let implementation: Implementation = CPUFeatures.preferredImplementation()

    /// Rows below which a product always runs on the calling thread.
    package static let parallelMinRows = 48
    /// Multiply-adds (m·n·k) below which a product always runs on the calling thread
    /// (~50 µs of work on one core; less does not pay for waking other threads).
    package static let parallelMinWork = 2_000_000

    private static let threadLimit = Atomic<Int>(1)

    /// Threads a large product may use (default 1). Products with m ≥ `parallelMinRows` and
    /// enough work are split over row blocks on Dispatch's pool.
    package static var threadCount: Int { threadLimit.load(ordering: .relaxed) }

    /// Sets `threadCount` (clamped to 1...256). Call at start-up.
    package static func setThreadCount(_ count: Int) {
        threadLimit.store(min(max(count, 1), 256), ordering: .relaxed)
    }

    /// C[m×n] (=|+=) A[m×k]·B[k×n] (+ bias[n] broadcast per row when given), row-major with
    /// leading dims. B is read in place (only a last partial 16-column panel is copied); use
    /// `packB` for constant weights.
    package static func sgemm(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?,
        implementation: Implementation = KernelDispatch.implementation
    ) {
        guard m > 0, n > 0 else { return }
        let chunks = chunkCount(m: m, n: n, k: k)
        if chunks <= 1 {
            unpackedKernel(
                implementation, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                accumulate: accumulate, bias: bias)
            return
        }
        let rowsPerChunk = rowsPerChunk(m: m, chunks: chunks)
        let operands = Operands(a: a, b: b, c: c, bias: bias)
        DispatchQueue.concurrentPerform(iterations: chunks) { index in
            let first = index * rowsPerChunk
            let rows = min(rowsPerChunk, m - first)
            guard rows > 0 else { return }
            unpackedKernel(
                implementation, m: rows, n: n, k: k, a: operands.a + first * lda, lda: lda,
                b: operands.b, ldb: ldb, c: operands.c + first * ldc, ldc: ldc,
                accumulate: accumulate, bias: operands.bias)
        }
    }

    /// Pre-packs a constant B[k×n] (transposed: B given as n×k) once at load.
    package static func packB(k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int, transposed: Bool) -> PackedMatrix {
        PackedMatrix(k: k, n: n, b: b, ldb: ldb, transposed: transposed)
    }

    /// C[m×packed.n] = A[m×packed.k]·B (+ bias[n] per row when given).
    package static func sgemm(
        m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix, c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>?, implementation: Implementation = KernelDispatch.implementation
    ) {
        run(
            m: m, n: packed.n, k: packed.k, a: a, lda: lda, packed: packed, c: c, ldc: ldc,
            accumulate: false, bias: bias, implementation: implementation)
    }

    private static func run(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?,
        implementation: Implementation
    ) {
        guard m > 0, n > 0 else { return }
        let chunks = chunkCount(m: m, n: n, k: k)
        if chunks <= 1 {
            kernel(
                implementation, m: m, n: n, k: k, a: a, lda: lda, b: packed.panels, c: c, ldc: ldc,
                accumulate: accumulate, bias: bias)
            return
        }
        let rowsPerChunk = rowsPerChunk(m: m, chunks: chunks)
        let operands = Operands(a: a, b: packed.panels, c: c, bias: bias)
        withExtendedLifetime(packed) {
            DispatchQueue.concurrentPerform(iterations: chunks) { index in
                let first = index * rowsPerChunk
                let rows = min(rowsPerChunk, m - first)
                guard rows > 0 else { return }
                kernel(
                    implementation, m: rows, n: n, k: k, a: operands.a + first * lda, lda: lda,
                    b: operands.b, c: operands.c + first * ldc, ldc: ldc,
                    accumulate: accumulate, bias: operands.bias)
            }
        }
    }

    /// How many row blocks a product is split into (1: the calling thread does it all).
    private static func chunkCount(m: Int, n: Int, k: Int) -> Int {
        let threads = threadCount
        return threads > 1 && m >= parallelMinRows && m * n * k >= parallelMinWork ? min(threads, m / 16) : 1
    }

    /// Row blocks, multiples of the 6-row micro-kernel so only the last block has an edge.
    private static func rowsPerChunk(m: Int, chunks: Int) -> Int {
        ((m + chunks - 1) / chunks + 5) / 6 * 6
    }

    private static func unpackedKernel(
        _ implementation: Implementation, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
        bias: UnsafePointer<Float>?
    ) {
        switch implementation {
        case .avx2:
            AVX2Gemm.sgemm(
                m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                accumulate: accumulate, bias: bias)
        case .generic:
            GenericGemm.sgemm(
                m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                accumulate: accumulate, bias: bias)
        }
    }

    private static func kernel(
        _ implementation: Implementation, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
        bias: UnsafePointer<Float>?
    ) {
        switch implementation {
        case .avx2:
            AVX2Gemm.sgemmPacked(
                m: m, n: n, k: k, a: a, lda: lda, packedB: b, c: c, ldc: ldc,
                accumulate: accumulate, bias: bias)
        case .generic:
            GenericGemm.sgemmPacked(
                m: m, n: n, k: k, a: a, lda: lda, packedB: b, c: c, ldc: ldc,
                accumulate: accumulate, bias: bias)
        }
    }
}

/// The pointers of one product, handed to worker threads.
// @unchecked Sendable: the caller blocks in `concurrentPerform` until every worker is done, so
// the memory outlives the workers; workers only read A, B and bias and write disjoint rows of C.
private struct Operands: @unchecked Sendable {
    let a: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let c: UnsafeMutablePointer<Float>
    let bias: UnsafePointer<Float>?
}
