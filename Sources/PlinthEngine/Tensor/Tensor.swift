/// The element storage of a tensor, row-major.
public enum TensorStorage: Sendable, Equatable {
    case float32([Float])
    case float64([Double])
    case int64([Int64])
    case int32([Int32])
    case bool([Bool])
    case string([String])

    public var type: TensorType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        case .int64: return .int64
        case .int32: return .int32
        case .bool: return .bool
        case .string: return .string
        }
    }

    public var count: Int {
        switch self {
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        case .int64(let v): return v.count
        case .int32(let v): return v.count
        case .bool(let v): return v.count
        case .string(let v): return v.count
        }
    }
}

/// A dense tensor: a shape and row-major elements of one type.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var storage: TensorStorage

    public var type: TensorType { storage.type }
    public var elementCount: Int { storage.count }

    /// Creates a tensor; the element count must equal the product of `shape` (checked by `validate()`).
    public init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }

    /// Typed conveniences; as with `init(shape:storage:)`, the count must match the shape.
    public init(shape: [Int], floats: [Float]) { self.init(shape: shape, storage: .float32(floats)) }
    public init(shape: [Int], doubles: [Double]) { self.init(shape: shape, storage: .float64(doubles)) }
    public init(shape: [Int], int64s: [Int64]) { self.init(shape: shape, storage: .int64(int64s)) }
    public init(shape: [Int], int32s: [Int32]) { self.init(shape: shape, storage: .int32(int32s)) }
    public init(shape: [Int], bools: [Bool]) { self.init(shape: shape, storage: .bool(bools)) }
    public init(shape: [Int], strings: [String]) { self.init(shape: shape, storage: .string(strings)) }

    /// The elements when the tensor has that type, else nil.
    public var floats: [Float]? { if case .float32(let v) = storage { return v } else { return nil } }
    public var doubles: [Double]? { if case .float64(let v) = storage { return v } else { return nil } }
    public var int64s: [Int64]? { if case .int64(let v) = storage { return v } else { return nil } }
    public var int32s: [Int32]? { if case .int32(let v) = storage { return v } else { return nil } }
    public var bools: [Bool]? { if case .bool(let v) = storage { return v } else { return nil } }
    public var strings: [String]? { if case .string(let v) = storage { return v } else { return nil } }

    /// Product of the dimensions, or nil when a dimension is negative or the product overflows the limit.
    static func count(of shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o, p <= Limits.maxElements else { return nil }
            n = p
        }
        return n
    }

    /// Whether the shape is valid and matches the element count.
    public var isConsistent: Bool {
        shape.count <= Limits.maxRank && Tensor.count(of: shape) == elementCount
    }
}
