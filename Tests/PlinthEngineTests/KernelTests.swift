import PlinthEngine
import XCTest

/// GEMM kernels against a naive triple loop, on both builds, over random shapes with edges.
final class KernelTests: XCTestCase {
    /// Deterministic xorshift so failures reproduce.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }
        mutating func float() -> Float { Float(Int(next() % 2001) - 1000) / 500 }
        mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
    }

    struct Case {
        var m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
        var accumulate: Bool, withBias: Bool
    }

    static func randomCases(count: Int, seed: UInt64) -> [Case] {
        var r = Random(state: seed)
        var cases: [Case] = [
            Case(m: 1, n: 1, k: 1, lda: 1, ldb: 1, ldc: 1, accumulate: false, withBias: false),
            Case(m: 6, n: 16, k: 384, lda: 384, ldb: 16, ldc: 16, accumulate: false, withBias: true),
            Case(m: 13, n: 33, k: 800, lda: 801, ldb: 35, ldc: 40, accumulate: true, withBias: true),
            Case(m: 3, n: 5, k: 0, lda: 1, ldb: 5, ldc: 5, accumulate: true, withBias: true),
            Case(m: 7, n: 32, k: 20, lda: 21, ldb: 35, ldc: 33, accumulate: true, withBias: false),
            Case(m: 16, n: 784, k: 150, lda: 150, ldb: 784, ldc: 784, accumulate: false, withBias: true),
        ]
        for _ in 0..<count {
            let m = r.int(1...70)
            let n = r.int(1...70)
            let k = r.int(1...70)
            cases.append(
                Case(
                    m: m, n: n, k: k, lda: k + r.int(0...5), ldb: n + r.int(0...3),
                    ldc: n + r.int(0...4), accumulate: r.next() % 2 == 0, withBias: r.next() % 2 == 0))
        }
        return cases
    }

    /// Naive reference in Double.
    static func reference(_ t: Case, a: [Float], b: [Float], c: [Float], bias: [Float]?) -> [Float] {
        var out = c
        for i in 0..<t.m {
            for j in 0..<t.n {
                var sum = t.accumulate ? Double(c[i * t.ldc + j]) : 0
                if let bias { sum += Double(bias[j]) }
                for p in 0..<t.k { sum += Double(a[i * t.lda + p]) * Double(b[p * t.ldb + j]) }
                out[i * t.ldc + j] = Float(sum)
            }
        }
        return out
    }

    static func assertClose(
        _ got: [Float], _ want: [Float], _ t: Case, _ label: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(got.count, want.count)
        let tolerance = 1e-4 * Float(max(t.k, 1)) * 4
        for index in 0..<got.count where abs(got[index] - want[index]) > tolerance {
            XCTFail("\(label) \(t): index \(index) got \(got[index]) want \(want[index])", file: file, line: line)
            return
        }
    }

    func testUnpackedProductMatchesNaiveLoopOnBothBuilds() {
        var r = Random(state: 0x9E37_79B9_7F4A_7C15)
        for implementation in KernelDispatch.Implementation.allCases {
            for t in Self.randomCases(count: 120, seed: 42) {
                let a = r.floats(max(t.m * t.lda, 1))
                let b = r.floats(max(t.k * t.ldb, 1))
                let c0 = r.floats(t.m * t.ldc)
                let bias = t.withBias ? r.floats(t.n) : nil
                var c = c0
                let biasStorage = bias ?? [0]
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        biasStorage.withUnsafeBufferPointer { biasp in
                            c.withUnsafeMutableBufferPointer { cp in
                                KernelDispatch.sgemm(
                                    m: t.m, n: t.n, k: t.k, a: ap.baseAddress!, lda: t.lda, b: bp.baseAddress!,
                                    ldb: t.ldb, c: cp.baseAddress!, ldc: t.ldc, accumulate: t.accumulate,
                                    bias: bias == nil ? nil : biasp.baseAddress, implementation: implementation)
                            }
                        }
                    }
                }
                Self.assertClose(c, Self.reference(t, a: a, b: b, c: c0, bias: bias), t, "\(implementation)")
            }
        }
    }

    func testPackedProductMatchesNaiveLoopForPlainAndTransposedWeights() {
        var r = Random(state: 12345)
        for implementation in KernelDispatch.Implementation.allCases {
            for var t in Self.randomCases(count: 80, seed: 7) {
                t.accumulate = false
                let a = r.floats(max(t.m * t.lda, 1))
                let b = r.floats(max(t.k * t.ldb, 1))
                let bias = t.withBias ? r.floats(t.n) : nil
                // The same B stored transposed (n×k, row stride k + 2).
                let ldt = t.k + 2
                var bt = [Float](repeating: .nan, count: max(t.n * ldt, 1))
                for p in 0..<t.k { for j in 0..<t.n { bt[j * ldt + p] = b[p * t.ldb + j] } }
                let want = Self.reference(t, a: a, b: b, c: [Float](repeating: 0, count: t.m * t.ldc), bias: bias)
                for transposed in [false, true] {
                    let packed = (transposed ? bt : b).withUnsafeBufferPointer {
                        KernelDispatch.packB(
                            k: t.k, n: t.n, b: $0.baseAddress!, ldb: transposed ? ldt : t.ldb,
                            transposed: transposed)
                    }
                    var c = [Float](repeating: 0, count: t.m * t.ldc)
                    a.withUnsafeBufferPointer { ap in
                        c.withUnsafeMutableBufferPointer { cp in
                            if let bias {
                                bias.withUnsafeBufferPointer { biasp in
                                    KernelDispatch.sgemm(
                                        m: t.m, a: ap.baseAddress!, lda: t.lda, packed: packed,
                                        c: cp.baseAddress!, ldc: t.ldc, bias: biasp.baseAddress,
                                        implementation: implementation)
                                }
                            } else {
                                KernelDispatch.sgemm(
                                    m: t.m, a: ap.baseAddress!, lda: t.lda, packed: packed,
                                    c: cp.baseAddress!, ldc: t.ldc, bias: nil,
                                    implementation: implementation)
                            }
                        }
                    }
                    Self.assertClose(c, want, t, "\(implementation) transposed=\(transposed)")
                }
            }
        }
    }

    func testMultithreadedPathMatchesSingleThread() {
        let m = 200
        let n = 70
        let k = 300
        var r = Random(state: 99)
        let a = r.floats(m * k)
        let b = r.floats(k * n)
        let bias = r.floats(n)
        let t = Case(m: m, n: n, k: k, lda: k, ldb: n, ldc: n, accumulate: false, withBias: true)
        let want = Self.reference(t, a: a, b: b, c: [Float](repeating: 0, count: m * n), bias: bias)
        let packed = b.withUnsafeBufferPointer {
            KernelDispatch.packB(k: k, n: n, b: $0.baseAddress!, ldb: n, transposed: false)
        }
        KernelDispatch.setThreadCount(3)
        defer { KernelDispatch.setThreadCount(1) }
        XCTAssertGreaterThanOrEqual(m * n * k, KernelDispatch.parallelMinWork)
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
            bias.withUnsafeBufferPointer { biasp in
                c.withUnsafeMutableBufferPointer { cp in
                    KernelDispatch.sgemm(
                        m: m, a: ap.baseAddress!, lda: k, packed: packed, c: cp.baseAddress!,
                        ldc: n, bias: biasp.baseAddress)
                }
            }
        }
        Self.assertClose(c, want, t, "threads=3")

        var unpacked = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                bias.withUnsafeBufferPointer { biasp in
                    unpacked.withUnsafeMutableBufferPointer { cp in
                        KernelDispatch.sgemm(
                            m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n,
                            c: cp.baseAddress!, ldc: n, accumulate: false, bias: biasp.baseAddress)
                    }
                }
            }
        }
        Self.assertClose(unpacked, want, t, "threads=3 unpacked")
    }

    func testCPUFlagsParsing() {
        XCTAssertTrue(CPUFeatures.hasAVX2AndFMA(cpuinfo: "processor : 0\nflags\t\t: fpu sse2 avx fma avx2\n"))
        XCTAssertFalse(CPUFeatures.hasAVX2AndFMA(cpuinfo: "flags\t\t: fpu sse2 avx avx2\n"))
        XCTAssertFalse(CPUFeatures.hasAVX2AndFMA(cpuinfo: ""))
    }
}

/// `KernelDispatch.im2col` against a per-element reference over pads, strides and dilations.
final class Im2ColTests: XCTestCase {
    func testIm2ColMatchesPerElementUnfolding() {
        var r = KernelTests.Random(state: 77)
        for _ in 0..<300 {
            let channels = r.int(1...3)
            let height = r.int(1...9)
            let width = r.int(1...9)
            let kernelH = r.int(1...4)
            let kernelW = r.int(1...4)
            let strideH = r.int(1...3)
            let strideW = r.int(1...3)
            let dilationH = r.int(1...2)
            let dilationW = r.int(1...2)
            let padTop = r.int(0...3)
            let padLeft = r.int(0...3)
            let padBottom = r.int(0...3)
            let padRight = r.int(0...3)
            let spanH = (kernelH - 1) * dilationH + 1
            let spanW = (kernelW - 1) * dilationW + 1
            guard height + padTop + padBottom >= spanH, width + padLeft + padRight >= spanW else { continue }
            let outH = (height + padTop + padBottom - spanH) / strideH + 1
            let outW = (width + padLeft + padRight - spanW) / strideW + 1
            let g = KernelDispatch.ConvolutionGeometry(
                channels: channels, height: height, width: width, kernelH: kernelH, kernelW: kernelW, padTop: padTop,
                padLeft: padLeft, strideH: strideH, strideW: strideW, dilationH: dilationH, dilationW: dilationW,
                outH: outH, outW: outW)
            let input = r.floats(channels * height * width)
            var want = [Float]()
            for c in 0..<channels {
                for ky in 0..<kernelH {
                    for kx in 0..<kernelW {
                        for oy in 0..<outH {
                            for ox in 0..<outW {
                                let iy = oy * strideH - padTop + ky * dilationH
                                let ix = ox * strideW - padLeft + kx * dilationW
                                want.append(
                                    iy >= 0 && iy < height && ix >= 0 && ix < width
                                        ? input[(c * height + iy) * width + ix] : 0)
                            }
                        }
                    }
                }
            }
            var got = [Float](repeating: .nan, count: want.count)
            input.withUnsafeBufferPointer { pi in
                got.withUnsafeMutableBufferPointer { pg in
                    KernelDispatch.im2col(pi.baseAddress!, g, col: pg.baseAddress!)
                }
            }
            XCTAssertEqual(got, want, "\(g)")
        }
    }
}
