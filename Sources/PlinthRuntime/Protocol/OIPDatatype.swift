/// Tensor element types of the Open Inference Protocol v2 (the `datatype` field).
public enum OIPDatatype: String, Sendable, CaseIterable, CustomStringConvertible {
    case bool = "BOOL"
    case uint8 = "UINT8"
    case uint16 = "UINT16"
    case uint32 = "UINT32"
    case uint64 = "UINT64"
    case int8 = "INT8"
    case int16 = "INT16"
    case int32 = "INT32"
    case int64 = "INT64"
    case fp16 = "FP16"
    case fp32 = "FP32"
    case fp64 = "FP64"
    case bytes = "BYTES"

    public var description: String { rawValue }

    /// `rawValue` as a StaticString, for matching request bytes without building a String.
    var staticName: StaticString {
        switch self {
        case .bool: "BOOL"
        case .uint8: "UINT8"
        case .uint16: "UINT16"
        case .uint32: "UINT32"
        case .uint64: "UINT64"
        case .int8: "INT8"
        case .int16: "INT16"
        case .int32: "INT32"
        case .int64: "INT64"
        case .fp16: "FP16"
        case .fp32: "FP32"
        case .fp64: "FP64"
        case .bytes: "BYTES"
        }
    }

    /// Bytes per element in the binary extension; nil for BYTES (length-prefixed).
    public var elementSize: Int? {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .fp16: 2
        case .uint32, .int32, .fp32: 4
        case .uint64, .int64, .fp64: 8
        case .bytes: nil
        }
    }

    /// Inclusive range of a signed or narrow unsigned integer type (stored as Int64).
    var integerRange: ClosedRange<Int64>? {
        switch self {
        case .int8: Int64(Int8.min)...Int64(Int8.max)
        case .int16: Int64(Int16.min)...Int64(Int16.max)
        case .int32: Int64(Int32.min)...Int64(Int32.max)
        case .int64: Int64.min...Int64.max
        case .uint8: 0...Int64(UInt8.max)
        case .uint16: 0...Int64(UInt16.max)
        case .uint32: 0...Int64(UInt32.max)
        default: nil
        }
    }
}
