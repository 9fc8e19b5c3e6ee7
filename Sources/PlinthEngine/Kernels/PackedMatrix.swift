/// A constant right-hand matrix B[k×n] re-laid out once (at model load) for the GEMM kernels:
/// panels of 16 columns, each panel k consecutive rows of 16 floats, zero padded past `n`,
/// 64-byte aligned. Read-only after `init`.
// @unchecked Sendable: `storage` is written only in `init` and freed in `deinit`; every other
// access is a read, so sharing one instance between threads is safe.
package final class PackedMatrix: @unchecked Sendable {
    /// Rows of B (the shared dimension of the product).
    package let k: Int
    /// Columns of B (columns of the result).
    package let n: Int
    private let storage: UnsafeMutablePointer<Float>

    /// Columns per panel; the kernels' register block width.
    package static let panelWidth = 16

    /// Packs B given row-major as k×n (`transposed == false`) or as its transpose n×k
    /// (`transposed == true`, as ONNX Gemm's `transB` and PyTorch Linear weights store it),
    /// with row stride `ldb`.
    package init(k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int, transposed: Bool) {
        precondition(k >= 0 && n >= 0, "PackedMatrix: negative dimension")
        self.k = k
        self.n = n
        let panels = (n + Self.panelWidth - 1) / Self.panelWidth
        let count = max(panels * Self.panelWidth * k, Self.panelWidth)
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        storage = raw.bindMemory(to: Float.self, capacity: count)
        storage.initialize(repeating: 0, count: count)
        for panel in 0..<panels {
            let dst = storage + panel * Self.panelWidth * k
            let j0 = panel * Self.panelWidth
            let cols = min(Self.panelWidth, n - j0)
            if transposed {
                // B stored n×k: walk each source row (one output column) contiguously.
                for jj in 0..<cols {
                    let src = b + (j0 + jj) * ldb
                    for p in 0..<k { dst[p * Self.panelWidth + jj] = src[p] }
                }
            } else {
                for p in 0..<k {
                    let src = b + p * ldb + j0
                    let row = dst + p * Self.panelWidth
                    for jj in 0..<cols { row[jj] = src[jj] }
                }
            }
        }
    }

    deinit {
        storage.deallocate()
    }

    /// The packed panels, for the kernels.
    var panels: UnsafePointer<Float> { UnsafePointer(storage) }

    /// Bytes held by the packed copy (for memory accounting).
    package var byteCount: Int {
        max((n + Self.panelWidth - 1) / Self.panelWidth * Self.panelWidth * k, Self.panelWidth) * 4
    }
}
