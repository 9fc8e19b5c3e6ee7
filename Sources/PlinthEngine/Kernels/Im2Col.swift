/// Unfolding of an image for convolution as one GEMM.
extension KernelDispatch {
    /// Geometry of a 2-D convolution window over one image.
    package struct ConvolutionGeometry: Sendable, Equatable {
        package var channels: Int, height: Int, width: Int
        package var kernelH: Int, kernelW: Int
        package var padTop: Int, padLeft: Int
        package var strideH: Int, strideW: Int
        package var dilationH: Int, dilationW: Int
        package var outH: Int, outW: Int

        package init(
            channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int, padTop: Int, padLeft: Int,
            strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, outH: Int, outW: Int
        ) {
            (self.channels, self.height, self.width) = (channels, height, width)
            (self.kernelH, self.kernelW, self.padTop, self.padLeft) = (kernelH, kernelW, padTop, padLeft)
            (self.strideH, self.strideW, self.dilationH, self.dilationW) = (strideH, strideW, dilationH, dilationW)
            (self.outH, self.outW) = (outH, outW)
        }
    }

    /// Unfolds `input` [channels, height, width] into `col` [channels·kH·kW, outH·outW]
    /// (row-major), zero where the window overhangs the padding. With weights W [M, channels·kH·kW]
    /// as A and `col` as B (`sgemm(m: M, n: outH·outW, k: …, b: col, ldb: outH·outW, …)`, B read
    /// in place) the product is the output in NCHW order. Each output row is copied as one run
    /// (a block copy when strideW is 1), the overhanging ends zero-filled, with no per-element test.
    package static func im2col(
        _ input: UnsafePointer<Float>, _ g: ConvolutionGeometry, col: UnsafeMutablePointer<Float>
    ) {
        let pixels = g.outH * g.outW
        var dst = col
        for channel in 0..<g.channels {
            let plane = input + channel * g.height * g.width
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    let offsetX = kx * g.dilationW - g.padLeft
                    // Output columns whose input column ix = ox·strideW + offsetX lies in [0, width).
                    let first = min(g.outW, offsetX >= 0 ? 0 : (-offsetX + g.strideW - 1) / g.strideW)
                    let last = max(
                        first, min(g.outW, g.width - offsetX <= 0 ? 0 : (g.width - offsetX - 1) / g.strideW + 1))
                    for oy in 0..<g.outH {
                        let row = dst + oy * g.outW
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        guard iy >= 0 && iy < g.height else {
                            row.update(repeating: 0, count: g.outW)
                            continue
                        }
                        let src = plane + iy * g.width + offsetX
                        if first > 0 { row.update(repeating: 0, count: first) }
                        if g.strideW == 1 {
                            (row + first).update(from: src + first, count: last - first)
                        } else {
                            for ox in first..<last { row[ox] = src[ox * g.strideW] }
                        }
                        if last < g.outW { (row + last).update(repeating: 0, count: g.outW - last) }
                    }
                    dst += pixels
                }
            }
        }
    }
}
