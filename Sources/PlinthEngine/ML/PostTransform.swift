#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// ai.onnx.ml post transforms, with onnxruntime's numerics (its probit uses Winitzki's erf⁻¹).
enum PostTransform: String, Sendable {
    case none = "NONE"
    case softmax = "SOFTMAX"
    case logistic = "LOGISTIC"
    case softmaxZero = "SOFTMAX_ZERO"
    case probit = "PROBIT"

    init(_ ctx: NodeContext) throws(EngineError) {
        let s = ctx.string("post_transform", "NONE")
        guard let t = PostTransform(rawValue: s) else { throw ctx.error("unknown post_transform \(s)") }
        self = t
    }

    static func logistic(_ v: Float) -> Float {
        let e = 1 / (1 + expf(-abs(v)))
        return v < 0 ? 1 - e : e
    }

    static func probit(_ v: Float) -> Float { 1.41421356 * erfInv(2 * v - 1) }

    static func erfInv(_ x0: Float) -> Float {
        let sgn: Float = x0 < 0 ? -1 : 1
        let x = (1 - x0) * (1 + x0)
        let l = logf(x)
        let v = 2 / (3.14159 * 0.147) + 0.5 * l
        let v2 = 1 / 0.147 * l
        let v3 = -v + (v * v - v2).squareRoot()
        return sgn * v3.squareRoot()
    }

    /// Applies the transform in place to one row of two or more scores.
    func apply(_ row: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .none: return
        case .logistic: for i in row.indices { row[i] = PostTransform.logistic(row[i]) }
        case .probit: for i in row.indices { row[i] = PostTransform.probit(row[i]) }
        case .softmax:
            let m = row.max() ?? 0
            var s: Float = 0
            for i in row.indices {
                row[i] = expf(row[i] - m)
                s += row[i]
            }
            for i in row.indices { row[i] /= s }
        case .softmaxZero:
            let m = row.max() ?? 0
            let expNegMax = expf(-m)
            var s: Float = 0
            for i in row.indices {
                if row[i] > 0.0000001 || row[i] < -0.0000001 {
                    row[i] = expf(row[i] - m)
                    s += row[i]
                } else {
                    row[i] *= expNegMax
                }
            }
            for i in row.indices { row[i] /= s }
        }
    }
}

/// Class labels of a classifier: int64 or string.
enum ClassLabels: Sendable {
    case ints([Int64])
    case strings([String])

    init?(_ ctx: NodeContext, intsKey: String = "classlabels_int64s") {
        let s = ctx.strings("classlabels_strings")
        if !s.isEmpty {
            self = .strings(s)
            return
        }
        let i = ctx.int64s(intsKey)
        if !i.isEmpty {
            self = .ints(i)
            return
        }
        return nil
    }

    var count: Int {
        switch self {
        case .ints(let v): return v.count
        case .strings(let v): return v.count
        }
    }

    var descriptions: [String] {
        switch self {
        case .ints(let v): return v.map { String($0) }
        case .strings(let v): return v
        }
    }

    /// A label tensor from class indices (clamped: operators validate counts at load, this is a backstop).
    func tensor(_ indices: [Int], shape: [Int]) -> Tensor {
        switch self {
        case .ints(let v): return Tensor(shape: shape, int64s: indices.map { v[min(max($0, 0), v.count - 1)] })
        case .strings(let v): return Tensor(shape: shape, strings: indices.map { v[min(max($0, 0), v.count - 1)] })
        }
    }
}

/// Reads an ML operator's input as rows of floats (any numeric type is accepted, as onnxruntime does).
enum FeatureRows {
    static func read(_ frame: Frame, _ io: StepIO) throws(EngineError) -> (rows: Int, features: Int, data: [Float]) {
        let t = try frame.input(io, 0)
        let data: [Float]
        switch t.storage {
        case .float32(let v): data = v
        case .float64(let v): data = v.map(Float.init)
        case .int64(let v): data = v.map(Float.init)
        case .int32(let v): data = v.map(Float.init)
        default: throw .execution(node: io.node, reason: "input must be numeric, got \(t.type.rawValue)")
        }
        let rows = t.shape.count <= 1 ? 1 : t.shape[0]
        let features = t.shape.isEmpty ? data.count : (t.shape.count == 1 ? t.shape[0] : data.count / max(rows, 1))
        return (rows, features, data)
    }
}
