extension TensorStorage {
    /// Elements at `indices`, in order (the shared core of Transpose, Gather, Slice).
    func gathering(_ indices: [Int]) -> TensorStorage {
        switch self {
        case .float32(let v): return .float32(indices.map { v[$0] })
        case .float64(let v): return .float64(indices.map { v[$0] })
        case .int64(let v): return .int64(indices.map { v[$0] })
        case .int32(let v): return .int32(indices.map { v[$0] })
        case .bool(let v): return .bool(indices.map { v[$0] })
        case .string(let v): return .string(indices.map { v[$0] })
        }
    }

    static func concatenating(_ parts: [TensorStorage]) -> TensorStorage? {
        guard let first = parts.first else { return nil }
        switch first {
        case .float32:
            var r: [Float] = []
            for p in parts {
                guard case .float32(let v) = p else { return nil }
                r += v
            }
            return .float32(r)
        case .float64:
            var r: [Double] = []
            for p in parts {
                guard case .float64(let v) = p else { return nil }
                r += v
            }
            return .float64(r)
        case .int64:
            var r: [Int64] = []
            for p in parts {
                guard case .int64(let v) = p else { return nil }
                r += v
            }
            return .int64(r)
        case .int32:
            var r: [Int32] = []
            for p in parts {
                guard case .int32(let v) = p else { return nil }
                r += v
            }
            return .int32(r)
        case .bool:
            var r: [Bool] = []
            for p in parts {
                guard case .bool(let v) = p else { return nil }
                r += v
            }
            return .bool(r)
        case .string:
            var r: [String] = []
            for p in parts {
                guard case .string(let v) = p else { return nil }
                r += v
            }
            return .string(r)
        }
    }
}
