import PlinthEngine

/// A model loaded by the native engine, seen through OIP datatypes.
final class EngineServedModel: ServedModel {
    let model: InferenceModel
    let inputs: [TensorSpec]
    let outputs: [TensorSpec]

    init(path: String) throws {
        model = try InferenceModel(path: path)
        inputs = model.inputs.map(Self.spec)
        outputs = model.outputs.map(Self.spec)
    }

    private static func spec(_ signature: TensorSignature) -> TensorSpec {
        TensorSpec(
            name: signature.name, datatype: datatype(of: signature.type), shape: signature.shape,
            labels: signature.labels)
    }

    static func datatype(of type: TensorType) -> OIPDatatype {
        switch type {
        case .float32: .fp32
        case .float64: .fp64
        case .int64: .int64
        case .int32: .int32
        case .bool: .bool
        case .string: .bytes
        }
    }

    func run(_ inputs: [WireTensor]) throws -> [WireTensor] {
        var tensors: [Tensor] = []
        tensors.reserveCapacity(inputs.count)
        for input in inputs { tensors.append(try Self.tensor(input)) }
        let results: [Tensor]
        do {
            results = try model.run(inputs: tensors)
        } catch {
            switch error {
            case .invalidInput: throw InferenceError.inputMismatch(error.description)
            // Shapes and types were checked, so an operator failing here is about the values sent.
            case .execution: throw InferenceError.invalidRequest("model execution failed on this input: \(error)")
            default: throw InferenceError.executionFailed(error.description)
            }
        }
        var out: [WireTensor] = []
        out.reserveCapacity(results.count)
        for (spec, tensor) in zip(outputs, results) { out.append(Self.wire(spec.name, tensor)) }
        return out
    }

    /// Engine tensor for a checked input (its datatype is the model's).
    static func tensor(_ input: WireTensor) throws(InferenceError) -> Tensor {
        switch (input.datatype, input.data) {
        case (.fp32, .float32(let v)): return Tensor(shape: input.shape, storage: .float32(v))
        case (.fp64, .float64(let v)): return Tensor(shape: input.shape, storage: .float64(v))
        case (.int64, .int64(let v)): return Tensor(shape: input.shape, storage: .int64(v))
        case (.int32, .int64(let v)):
            return Tensor(shape: input.shape, storage: .int32(v.map { Int32(truncatingIfNeeded: $0) }))
        case (.bool, .bool(let v)): return Tensor(shape: input.shape, storage: .bool(v))
        case (.bytes, .bytes(let v)):
            var strings: [String] = []
            strings.reserveCapacity(v.count)
            for bytes in v {
                guard let s = String(validating: bytes, as: UTF8.self) else {
                    throw .inputMismatch("input '\(input.name)': BYTES element is not valid UTF-8")
                }
                strings.append(s)
            }
            return Tensor(shape: input.shape, storage: .string(strings))
        default:
            throw .inputMismatch("input '\(input.name)': datatype \(input.datatype) is not supported by the engine")
        }
    }

    static func wire(_ name: String, _ tensor: Tensor) -> WireTensor {
        let data: TensorData
        switch tensor.storage {
        case .float32(let v): data = .float32(v)
        case .float64(let v): data = .float64(v)
        case .int64(let v): data = .int64(v)
        case .int32(let v): data = .int64(v.map(Int64.init))
        case .bool(let v): data = .bool(v)
        case .string(let v): data = .bytes(v.map { Array($0.utf8) })
        }
        return WireTensor(name: name, datatype: datatype(of: tensor.type), shape: tensor.shape, data: data)
    }
}
