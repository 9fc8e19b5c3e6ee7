/// ai.onnx.ml ArrayFeatureExtractor: picks columns (last axis) by index; any element type.
struct ArrayFeatureExtractorOperator: Operator {
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let indices = try Shapes.ints(try frame.input(io, 1), node: io.node)
        guard let last = x.shape.last else { throw .execution(node: io.node, reason: "input must have at least one dimension") }
        let rows = last == 0 ? 0 : x.elementCount / last
        var idx: [Int] = []
        idx.reserveCapacity(rows * indices.count)
        for r in 0..<rows {
            for k in indices {
                guard k >= 0, k < last else {
                    throw .execution(node: io.node, reason: "index \(k) out of range for last dimension \(last)")
                }
                idx.append(r * last + k)
            }
        }
        let shape = x.shape.count == 1 ? [1, indices.count] : Array(x.shape.dropLast()) + [indices.count]
        frame.setOutput(io, 0, Tensor(shape: shape, storage: x.storage.gathering(idx)))
    }
}

/// ai.onnx.ml Imputer: replaces a sentinel (NaN by default for floats) with per-feature values.
struct ImputerOperator: Operator {
    let floatValues: [Float]
    let intValues: [Int64]
    let replacedFloat: Float
    let replacedInt: Int64

    init(_ ctx: NodeContext) throws(EngineError) {
        floatValues = ctx.floats("imputed_value_floats")
        intValues = ctx.int64s("imputed_value_int64s")
        replacedFloat = ctx.float("replaced_value_float", .nan)
        replacedInt = Int64(ctx.int("replaced_value_int64", 0))
        guard !floatValues.isEmpty || !intValues.isEmpty else { throw ctx.error("no imputed values") }
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let t = try frame.input(io, 0)
        let last = t.shape.last ?? 1
        switch t.storage {
        case .float32(var x):
            guard floatValues.count == 1 || floatValues.count == last else {
                throw .execution(node: io.node, reason: "\(floatValues.count) imputed values for \(last) features")
            }
            for i in 0..<x.count where x[i] == replacedFloat || (replacedFloat.isNaN && x[i].isNaN) {
                x[i] = floatValues.count == 1 ? floatValues[0] : floatValues[i % last]
            }
            frame.setOutput(io, 0, Tensor(shape: t.shape, floats: x))
        case .int64(var x):
            guard intValues.count == 1 || intValues.count == last else {
                throw .execution(node: io.node, reason: "\(intValues.count) imputed values for \(last) features")
            }
            for i in 0..<x.count where x[i] == replacedInt {
                x[i] = intValues.count == 1 ? intValues[0] : intValues[i % last]
            }
            frame.setOutput(io, 0, Tensor(shape: t.shape, int64s: x))
        default:
            throw .execution(node: io.node, reason: "Imputer of \(t.type.rawValue)")
        }
    }
}

/// ai.onnx.ml OneHotEncoder: each element becomes a one-hot row over the categories (output FP32,
/// shape input + [K]); unknown values give zeros, or an error when `zeros` is 0.
struct OneHotEncoderOperator: Operator {
    let intCategories: [Int64: Int]
    let stringCategories: [String: Int]
    let count: Int
    let zerosForUnknown: Bool

    init(_ ctx: NodeContext) throws(EngineError) {
        let ints = ctx.int64s("cats_int64s"), strings = ctx.strings("cats_strings")
        guard ints.isEmpty != strings.isEmpty else { throw ctx.error("exactly one of cats_int64s and cats_strings is needed") }
        var im: [Int64: Int] = [:], sm: [String: Int] = [:]
        for (i, v) in ints.enumerated() where im[v] == nil { im[v] = i }
        for (i, v) in strings.enumerated() where sm[v] == nil { sm[v] = i }
        intCategories = im
        stringCategories = sm
        count = max(ints.count, strings.count)
        zerosForUnknown = ctx.int("zeros", 1) != 0
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let t = try frame.input(io, 0)
        let positions: [Int?]
        switch t.storage {
        case .string(let v): positions = v.map { stringCategories[$0] }
        case .int64(let v): positions = v.map { intCategories[$0] }
        case .int32(let v): positions = v.map { intCategories[Int64($0)] }
        case .float32(let v): positions = v.map { $0.isFinite ? intCategories[Int64($0)] : nil }
        case .float64(let v): positions = v.map { $0.isFinite && abs($0) < 9e18 ? intCategories[Int64($0)] : nil }
        case .bool: throw .execution(node: io.node, reason: "OneHotEncoder of BOOL")
        }
        let shape = t.shape + [count]
        var y = try frame.floatBuffer(io, shape: shape, zeroed: true)
        for (i, p) in positions.enumerated() {
            if let p {
                y[i * count + p] = 1
            } else if !zerosForUnknown {
                throw .execution(node: io.node, reason: "value at position \(i) is not a known category")
            }
        }
        frame.setOutput(io, 0, Tensor(shape: shape, floats: y))
    }
}
