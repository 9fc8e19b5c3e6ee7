/// Numpy-style broadcasting of shapes and element indices.
enum Broadcast {
    static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for s in shapes {
            let offset = rank - s.count
            for (i, d) in s.enumerated() {
                let o = out[offset + i]
                if o == d || d == 1 { continue }
                if o == 1 { out[offset + i] = d } else { return nil }
            }
        }
        return out
    }

    /// Element strides of `shape` laid against `out` (0 along broadcast dimensions).
    static func strides(_ shape: [Int], in out: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: out.count)
        var step = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let o = out.count - shape.count + i
            strides[o] = shape[i] == 1 ? 0 : step
            step *= shape[i]
        }
        return strides
    }

    /// Calls `body(outIndex, sourceOffsets)` for every output element, in row-major order.
    static func forEach(out: [Int], strides: [[Int]], _ body: (Int, [Int]) -> Void) {
        let total = out.reduce(1, *)
        guard total > 0 else { return }
        let rank = out.count
        var counter = [Int](repeating: 0, count: rank)
        var offsets = [Int](repeating: 0, count: strides.count)
        for i in 0..<total {
            body(i, offsets)
            var d = rank - 1
            while d >= 0 {
                counter[d] += 1
                for k in 0..<strides.count { offsets[k] += strides[k][d] }
                if counter[d] < out[d] { break }
                for k in 0..<strides.count { offsets[k] -= strides[k][d] * out[d] }
                counter[d] = 0
                d -= 1
            }
        }
    }

    /// Applies `f` elementwise over two broadcast operands into `result`.
    static func binary<T, R>(
        _ a: [T], _ sa: [Int], _ b: [T], _ sb: [Int], out: [Int], into result: inout [R], _ f: (T, T) -> R
    ) {
        let n = result.count
        if sa == sb {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    result.withUnsafeMutableBufferPointer { pr in for i in 0..<n { pr[i] = f(pa[i], pb[i]) } }
                }
            }
        } else if b.count == 1 {
            let v = b[0]
            a.withUnsafeBufferPointer { pa in
                result.withUnsafeMutableBufferPointer { pr in for i in 0..<n { pr[i] = f(pa[i], v) } }
            }
        } else if a.count == 1 {
            let v = a[0]
            b.withUnsafeBufferPointer { pb in
                result.withUnsafeMutableBufferPointer { pr in for i in 0..<n { pr[i] = f(v, pb[i]) } }
            }
        } else if sa == out, b.count > 0,
            sb.drop(while: { $0 == 1 }).elementsEqual(out.suffix(sb.drop(while: { $0 == 1 }).count))
        {
            // b broadcast along leading dimensions only (bias add): repeat it.
            let m = b.count
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    result.withUnsafeMutableBufferPointer { pr in for i in 0..<n { pr[i] = f(pa[i], pb[i % m]) } }
                }
            }
        } else {
            let st = [strides(sa, in: out), strides(sb, in: out)]
            forEach(out: out, strides: st) { i, o in result[i] = f(a[o[0]], b[o[1]]) }
        }
    }
}
