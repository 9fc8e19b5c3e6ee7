/// Which operators the engine runs, and how each is compiled from its node.
enum OperatorRegistry {
    static let mlDomain = "ai.onnx.ml"

    static let standard: Set<String> = [
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax",
        "LogSoftmax",
        "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Flatten", "Reshape", "Transpose",
        "Concat", "Squeeze", "Unsqueeze", "Gather", "Clip", "Dropout", "Constant", "Shape", "Slice", "Erf", "Sqrt",
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "LayerNormalization", "Neg", "Abs", "Exp", "Log",
        "Reciprocal", "Floor", "Ceil", "Where", "Equal", "Gelu", "Identity", "Cast", "ArgMax",
    ]
    static let ml: Set<String> = [
        "LinearRegressor", "LinearClassifier", "Scaler", "Normalizer", "TreeEnsembleRegressor",
        "TreeEnsembleClassifier", "ZipMap",
        "ArrayFeatureExtractor", "Imputer", "OneHotEncoder",
    ]
    /// Highest opset versions whose semantics the engine implements.
    static let maxStandardOpset = 22
    static let maxMLOpset = 5

    static func isSupported(opType: String, domain: String, opset: Int) -> Bool {
        if domain.isEmpty || domain == "ai.onnx" {
            guard opset >= 1, opset <= maxStandardOpset, standard.contains(opType) else { return false }
            if opType == "Gelu" { return opset >= 20 }
            if opType == "LayerNormalization" { return opset >= 17 }
            return true
        }
        if domain == mlDomain { return opset >= 1 && opset <= maxMLOpset && ml.contains(opType) }
        return false
    }

    static func make(_ c: NodeContext) throws(EngineError) -> any Operator {
        switch c.node.opType {
        case "Add": return BinaryOperator(kind: .add)
        case "Sub": return BinaryOperator(kind: .sub)
        case "Mul": return BinaryOperator(kind: .mul)
        case "Div": return BinaryOperator(kind: .div)
        case "Pow": return BinaryOperator(kind: .pow)
        case "Equal": return EqualOperator()
        case "Where": return WhereOperator()
        case "Relu": return UnaryOperator(kind: .relu)
        case "LeakyRelu": return UnaryOperator(kind: .leakyRelu(c.float("alpha", 0.01)))
        case "Sigmoid": return UnaryOperator(kind: .sigmoid)
        case "Tanh": return UnaryOperator(kind: .tanh)
        case "Erf": return UnaryOperator(kind: .erf)
        case "Sqrt": return UnaryOperator(kind: .sqrt)
        case "Neg": return UnaryOperator(kind: .neg)
        case "Abs": return UnaryOperator(kind: .abs)
        case "Exp": return UnaryOperator(kind: .exp)
        case "Log": return UnaryOperator(kind: .log)
        case "Reciprocal": return UnaryOperator(kind: .reciprocal)
        case "Floor": return UnaryOperator(kind: .floor)
        case "Ceil": return UnaryOperator(kind: .ceil)
        case "Gelu": return UnaryOperator(kind: c.string("approximate", "none") == "tanh" ? .geluTanh : .gelu)
        case "Clip":
            return ClipOperator(
                minAttr: c.float("min", -.greatestFiniteMagnitude), maxAttr: c.float("max", .greatestFiniteMagnitude),
                boundsFromInputs: c.opset >= 11)
        case "Identity", "Dropout": return IdentityOperator()
        case "Softmax", "LogSoftmax":
            let coerce = c.opset < 13
            return SoftmaxOperator(
                axis: c.int("axis", coerce ? 1 : -1), log: c.node.opType == "LogSoftmax", coerce2D: coerce)
        case "Cast":
            guard let t = TensorType(onnxDataType: c.int("to", 0)) else {
                throw EngineError.unsupportedFeature("Cast to data type \(c.int("to", 0))")
            }
            return Cast(to: t)
        case "Reshape":
            return ReshapeOperator(
                allowZero: c.int("allowzero", 0) != 0, attrShape: c.opset < 5 ? c.ints("shape") : nil)
        case "Flatten": return FlattenOperator(axis: c.int("axis", 1))
        case "Squeeze", "Unsqueeze":
            return SqueezeOperator(
                unsqueeze: c.node.opType == "Unsqueeze", attrAxes: c.opset < 13 ? c.ints("axes") : nil)
        case "Transpose": return TransposeOperator(perm: c.ints("perm"))
        case "Concat": return ConcatOperator(axis: c.int("axis", 0))
        case "Gather": return GatherOperator(axis: c.int("axis", 0))
        case "Shape": return ShapeOperator(start: c.int("start", 0), end: c.has("end") ? c.int("end", 0) : nil)
        case "Slice":
            if c.opset < 10 {
                return SliceOperator(
                    attrStarts: c.ints("starts") ?? [], attrEnds: c.ints("ends") ?? [], attrAxes: c.ints("axes"))
            }
            return SliceOperator(attrStarts: nil, attrEnds: nil, attrAxes: nil)
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin":
            guard let kind = ReduceOperator.Kind(rawValue: c.node.opType) else { throw c.error("unknown reduction") }
            let fromInput = c.opset >= ReduceOperator.axesInputOpset(kind)
            return ReduceOperator(
                kind: kind, attrAxes: fromInput ? nil : (c.ints("axes") ?? []), keepDims: c.int("keepdims", 1) != 0,
                noopWithEmptyAxes: fromInput && c.int("noop_with_empty_axes", 0) != 0)
        case "ArgMax":
            return ArgMaxOperator(
                axis: c.int("axis", 0), keepDims: c.int("keepdims", 1) != 0,
                selectLast: c.int("select_last_index", 0) != 0)
        case "BatchNormalization": return try BatchNormOperator(c)
        case "LayerNormalization": return LayerNormOperator(axis: c.int("axis", -1), epsilon: c.float("epsilon", 1e-5))
        case "GlobalAveragePool": return GlobalAveragePoolOperator()
        case "MaxPool", "AveragePool":
            guard c.node.outputs.count < 2 || c.node.outputs[1].isEmpty else {
                throw EngineError.unsupportedFeature("MaxPool Indices output")
            }
            return PoolOperator(
                window: try Window(c, kernel: nil), isMax: c.node.opType == "MaxPool",
                countIncludePad: c.int("count_include_pad", 0) != 0)
        case "Conv":
            let w = c.constantInputs[1]
            let kernel = w.flatMap { $0.shape.count == 4 ? Array($0.shape[2...]) : nil }
            return ConvOperator(declaredWindow: try Window(c, kernel: kernel), group: c.int("group", 1), weights: w)
        case "MatMul":
            if let b = c.constantInputs[1], let data = b.floats, b.shape.count == 2, b.shape[0] > 0, b.shape[1] > 0 {
                let packed = data.withUnsafeBufferPointer {
                    KernelDispatch.packB(
                        k: b.shape[0], n: b.shape[1], b: $0.baseAddress!, ldb: b.shape[1], transposed: false)
                }
                return MatMulOperator(packed: packed)
            }
            return MatMulOperator(packed: nil)
        case "Gemm":
            let transB = c.int("transB", 0) != 0
            var packed: PackedMatrix?
            if let b = c.constantInputs[1], let data = b.floats, b.shape.count == 2, b.shape[0] > 0, b.shape[1] > 0 {
                let (k, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
                packed = data.withUnsafeBufferPointer {
                    KernelDispatch.packB(k: k, n: n, b: $0.baseAddress!, ldb: b.shape[1], transposed: transB)
                }
            }
            return GemmOperator(
                alpha: c.float("alpha", 1), beta: c.float("beta", 1), transA: c.int("transA", 0) != 0, transB: transB,
                packed: packed)
        case "LinearRegressor": return try LinearRegressorOperator(c)
        case "LinearClassifier": return try LinearClassifierOperator(c)
        case "Scaler": return ScalerOperator(offset: c.floats("offset"), scale: c.floats("scale"))
        case "Normalizer":
            guard let n = NormalizerOperator.Norm(rawValue: c.string("norm", "MAX")) else {
                throw c.error("unknown norm")
            }
            return NormalizerOperator(norm: n)
        case "ArrayFeatureExtractor": return ArrayFeatureExtractorOperator()
        case "Imputer": return try ImputerOperator(c)
        case "OneHotEncoder": return try OneHotEncoderOperator(c)
        case "TreeEnsembleRegressor": return try TreeEnsembleRegressorOperator(c)
        case "TreeEnsembleClassifier": return try TreeEnsembleClassifierOperator(c)
        case "ZipMap":
            guard let l = ClassLabels(c) else { throw c.error("no class labels") }
            return ZipMapOperator(labels: l.descriptions)
        default:
            throw EngineError.unsupportedOperator(name: c.node.opType, domain: c.node.domain, opset: c.opset)
        }
    }

    /// The value of a Constant node.
    static func constant(_ c: NodeContext, decoder: TensorDecoder) throws(EngineError) -> Tensor {
        if let t = c.attributes["value"]?.t { return try decoder.tensor(t) }
        if let a = c.attributes["value_float"] { return Tensor(shape: [], floats: [a.f]) }
        if let a = c.attributes["value_floats"] { return Tensor(shape: [a.floats.count], floats: a.floats) }
        if let a = c.attributes["value_int"] { return Tensor(shape: [], int64s: [a.i]) }
        if let a = c.attributes["value_ints"] { return Tensor(shape: [a.ints.count], int64s: a.ints) }
        if let a = c.attributes["value_string"] {
            return Tensor(shape: [], strings: [String(decoding: a.s, as: UTF8.self)])
        }
        if let a = c.attributes["value_strings"] {
            return Tensor(shape: [a.strings.count], strings: a.strings.map { String(decoding: $0, as: UTF8.self) })
        }
        throw c.error("Constant without a supported value attribute")
    }
}
