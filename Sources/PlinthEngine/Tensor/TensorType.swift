/// Element types, named as the Open Inference Protocol names them.
public enum TensorType: String, Sendable, CaseIterable {
    case float32 = "FP32"
    case float64 = "FP64"
    case int64 = "INT64"
    case int32 = "INT32"
    case bool = "BOOL"
    case string = "BYTES"

    /// The ONNX TensorProto.DataType for this type.
    var onnxDataType: Int {
        switch self {
        case .float32: return OnnxDataType.float
        case .float64: return OnnxDataType.double
        case .int64: return OnnxDataType.int64
        case .int32: return OnnxDataType.int32
        case .bool: return OnnxDataType.bool
        case .string: return OnnxDataType.string
        }
    }

    /// The engine type for an ONNX data type, or nil when the engine does not carry it.
    init?(onnxDataType: Int) {
        switch onnxDataType {
        case OnnxDataType.float: self = .float32
        case OnnxDataType.double: self = .float64
        case OnnxDataType.int64: self = .int64
        case OnnxDataType.int32: self = .int32
        case OnnxDataType.bool: self = .bool
        case OnnxDataType.string: self = .string
        default: return nil
        }
    }
}

/// Name, type and shape of a model input or output.
public struct TensorSignature: Sendable, Equatable {
    public var name: String
    public var type: TensorType
    /// Declared dimensions; -1 where the model leaves a dimension dynamic (or the rank unknown: empty).
    public var shape: [Int]
    /// For ZipMap (seq(map)) outputs: the class labels, in the column order of the returned [N, C] tensor.
    public var labels: [String]?
    /// False when the model declares no shape at all (any rank is accepted).
    var rankKnown = true

    public init(name: String, type: TensorType, shape: [Int], labels: [String]? = nil) {
        self.name = name
        self.type = type
        self.shape = shape
        self.labels = labels
    }
}
