/// Cast between the engine's element types (ONNX Cast semantics: float→int truncates toward zero).
struct Cast: Operator {
    let to: TensorType

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        frame.setOutput(io, 0, Tensor(shape: x.shape, storage: try Cast.convert(x.storage, to: to, node: io.node)))
    }

    static func convert(_ s: TensorStorage, to: TensorType, node: String) throws(EngineError) -> TensorStorage {
        if s.type == to { return s }
        let d: [Double]
        switch s {
        case .float32(let v): d = v.map(Double.init)
        case .float64(let v): d = v
        case .int64(let v): d = v.map(Double.init)
        case .int32(let v): d = v.map(Double.init)
        case .bool(let v): d = v.map { $0 ? 1 : 0 }
        case .string(let v):
            guard to != .string else { return s }
            d = v.map { Double($0) ?? .nan }
        }
        switch to {
        case .float32:
            if case .int64(let v) = s { return .float32(v.map(Float.init)) }
            return .float32(d.map(Float.init))
        case .float64: return .float64(d)
        case .int64:
            if case .int32(let v) = s { return .int64(v.map(Int64.init)) }
            return .int64(
                d.map { $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) ?? ($0 < 0 ? .min : .max) : .min })
        case .int32:
            return .int32(
                d.map { $0.isFinite ? Int32(exactly: $0.rounded(.towardZero)) ?? ($0 < 0 ? .min : .max) : .min })
        case .bool: return .bool(d.map { $0 != 0 })
        case .string:
            switch s {
            case .int64(let v): return .string(v.map { String($0) })
            case .int32(let v): return .string(v.map { String($0) })
            default: throw .execution(node: node, reason: "Cast from \(s.type.rawValue) to strings is not supported")
            }
        }
    }
}
