/// The elements of one tensor, flat in row-major order. The `OIPDatatype` next to it says the
/// exact width: `.int64` carries INT8…INT64 and UINT8…UINT32 (range-checked on input),
/// `.uint64` UINT64, `.float32` FP32 and FP16 (widened), `.bytes` BYTES.
public enum TensorData: Sendable, Equatable {
    case float32([Float])
    case float64([Double])
    case int64([Int64])
    case uint64([UInt64])
    case bool([Bool])
    case bytes([[UInt8]])

    /// Number of elements.
    public var count: Int {
        switch self {
        case .float32(let v): v.count
        case .float64(let v): v.count
        case .int64(let v): v.count
        case .uint64(let v): v.count
        case .bool(let v): v.count
        case .bytes(let v): v.count
        }
    }

    /// Elements `range` (for splitting a batched result).
    public func slice(_ range: Range<Int>) -> TensorData {
        switch self {
        case .float32(let v): .float32(Array(v[range]))
        case .float64(let v): .float64(Array(v[range]))
        case .int64(let v): .int64(Array(v[range]))
        case .uint64(let v): .uint64(Array(v[range]))
        case .bool(let v): .bool(Array(v[range]))
        case .bytes(let v): .bytes(Array(v[range]))
        }
    }

    /// Joins parts of the same case end to end (for merging a batch); nil when cases differ.
    static func concatenate(_ parts: [TensorData]) -> TensorData? {
        guard let first = parts.first else { return nil }
        switch first {
        case .float32:
            return join(parts) { if case .float32(let v) = $0 { v } else { nil } }.map { .float32($0) }
        case .float64:
            return join(parts) { if case .float64(let v) = $0 { v } else { nil } }.map { .float64($0) }
        case .int64:
            return join(parts) { if case .int64(let v) = $0 { v } else { nil } }.map { .int64($0) }
        case .uint64:
            return join(parts) { if case .uint64(let v) = $0 { v } else { nil } }.map { .uint64($0) }
        case .bool:
            return join(parts) { if case .bool(let v) = $0 { v } else { nil } }.map { .bool($0) }
        case .bytes:
            return join(parts) { if case .bytes(let v) = $0 { v } else { nil } }.map { .bytes($0) }
        }
    }

    private static func join<T>(_ parts: [TensorData], _ extract: (TensorData) -> [T]?) -> [T]? {
        var out = [T]()
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts {
            guard let values = extract(part) else { return nil }
            out.append(contentsOf: values)
        }
        return out
    }
}
