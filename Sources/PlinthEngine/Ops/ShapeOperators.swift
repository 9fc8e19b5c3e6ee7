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
        case .float32: var r: [Float] = []; for p in parts { guard case .float32(let v) = p else { return nil }; r += v }; return .float32(r)
        case .float64: var r: [Double] = []; for p in parts { guard case .float64(let v) = p else { return nil }; r += v }; return .float64(r)
        case .int64: var r: [Int64] = []; for p in parts { guard case .int64(let v) = p else { return nil }; r += v }; return .int64(r)
        case .int32: var r: [Int32] = []; for p in parts { guard case .int32(let v) = p else { return nil }; r += v }; return .int32(r)
        case .bool: var r: [Bool] = []; for p in parts { guard case .bool(let v) = p else { return nil }; r += v }; return .bool(r)
        case .string: var r: [String] = []; for p in parts { guard case .string(let v) = p else { return nil }; r += v }; return .string(r)
        }
    }
}

/// Reshape (0 copies a dimension unless allowzero, -1 is inferred). Shares the input's storage.
struct ReshapeOperator: Operator {
    let allowZero: Bool
    let attrShape: [Int]?

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let spec: [Int]
        if let attrShape { spec = attrShape } else { spec = try Shapes.ints(try frame.input(io, 1), node: io.node) }
        frame.setOutput(io, 0, Tensor(shape: try ReshapeOperator.resolve(spec, input: x.shape, allowZero: allowZero, node: io.node), storage: x.storage))
    }

    static func resolve(_ spec: [Int], input: [Int], allowZero: Bool, node: String) throws(EngineError) -> [Int] {
        let total = input.reduce(1, *)
        var out = spec
        var inferred: Int?
        for (i, d) in spec.enumerated() {
            if d == 0 && !allowZero {
                guard i < input.count else { throw .execution(node: node, reason: "shape \(spec) copies dimension \(i) of \(input)") }
                out[i] = input[i]
            } else if d == -1 {
                guard inferred == nil else { throw .execution(node: node, reason: "shape \(spec) has two -1") }
                inferred = i
            } else if d < 0 {
                throw .execution(node: node, reason: "invalid dimension \(d) in shape \(spec)")
            }
        }
        if let k = inferred {
            var known = 1
            for (i, d) in out.enumerated() where i != k {
                let (p, overflow) = known.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .execution(node: node, reason: "shape \(spec) overflows") }
                known = p
            }
            guard known > 0, total % known == 0 else { throw .execution(node: node, reason: "cannot reshape \(input) to \(spec)") }
            out[k] = total / known
        }
        guard Tensor.count(of: out) == total else { throw .execution(node: node, reason: "cannot reshape \(input) to \(spec)") }
        return out
    }
}

/// Flatten to 2-D at `axis`.
struct FlattenOperator: Operator {
    let axis: Int
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let a = axis < 0 ? axis + x.shape.count : axis
        guard a >= 0, a <= x.shape.count else { throw .execution(node: io.node, reason: "axis \(axis) out of range for \(x.shape)") }
        frame.setOutput(io, 0, Tensor(shape: [Shapes.product(x.shape[..<a]), Shapes.product(x.shape[a...])], storage: x.storage))
    }
}

/// Squeeze and Unsqueeze with axes from attributes (opset < 13) or the second input.
struct SqueezeOperator: Operator {
    let unsqueeze: Bool
    let attrAxes: [Int]?

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        var axes = attrAxes
        if axes == nil, let t = frame.optionalInput(io, 1) { axes = try Shapes.ints(t, node: io.node) }
        var shape = x.shape
        if unsqueeze {
            guard let axes else { throw .execution(node: io.node, reason: "Unsqueeze needs axes") }
            let rank = shape.count + axes.count
            var norm: [Int] = []
            for a in axes { norm.append(try Shapes.normalizeAxis(a, rank: rank, node: io.node)) }
            guard Set(norm).count == norm.count, rank <= Limits.maxRank else { throw .execution(node: io.node, reason: "invalid axes \(axes)") }
            for a in norm.sorted() { shape.insert(1, at: a) }
        } else if let axes, !axes.isEmpty {
            var norm: [Int] = []
            for a in axes { norm.append(try Shapes.normalizeAxis(a, rank: shape.count, node: io.node)) }
            for a in Set(norm).sorted(by: >) {
                guard shape[a] == 1 else { throw .execution(node: io.node, reason: "cannot squeeze dimension \(a) of \(x.shape)") }
                shape.remove(at: a)
            }
        } else {
            shape.removeAll { $0 == 1 }
        }
        frame.setOutput(io, 0, Tensor(shape: shape, storage: x.storage))
    }
}

/// Transpose by `perm` (default: reverse the dimensions).
struct TransposeOperator: Operator {
    let perm: [Int]?
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let rank = x.shape.count
        let p = perm ?? Array((0..<rank).reversed())
        guard p.count == rank, Set(p) == Set(0..<rank) else { throw .execution(node: io.node, reason: "perm \(p) does not fit rank \(rank)") }
        let out = p.map { x.shape[$0] }
        let inStrides = Transpose.strides(x.shape)
        let st = [p.map { inStrides[$0] }]
        var idx = [Int](repeating: 0, count: x.elementCount)
        Broadcast.forEach(out: out, strides: st) { i, o in idx[i] = o[0] }
        frame.setOutput(io, 0, Tensor(shape: out, storage: x.storage.gathering(idx)))
    }
}

enum Transpose {
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var step = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = step; step *= shape[i] }
        return s
    }
}

/// Concat along `axis`; any element type.
struct ConcatOperator: Operator {
    let axis: Int
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        var parts: [Tensor] = []
        for i in 0..<io.inputs.count { parts.append(try frame.input(io, i)) }
        guard let first = parts.first else { throw .execution(node: io.node, reason: "no inputs") }
        let rank = first.shape.count
        let a = try Shapes.normalizeAxis(axis, rank: rank, node: io.node)
        var out = first.shape
        out[a] = 0
        for p in parts {
            guard p.shape.count == rank, p.type == first.type else { throw .execution(node: io.node, reason: "inputs differ in rank or type") }
            for d in 0..<rank where d != a && p.shape[d] != first.shape[d] {
                throw .execution(node: io.node, reason: "shapes \(first.shape) and \(p.shape) differ off axis \(a)")
            }
            out[a] += p.shape[a]
        }
        let outer = Shapes.product(first.shape[..<a])
        if outer == 1 {
            guard let s = TensorStorage.concatenating(parts.map(\.storage)) else { throw .execution(node: io.node, reason: "mixed types") }
            frame.setOutput(io, 0, Tensor(shape: out, storage: s))
            return
        }
        // Interleave: for each outer index, each part's block along the axis.
        var pieces: [TensorStorage] = []
        for o in 0..<outer {
            for p in parts {
                let block = Shapes.product(p.shape[a...])
                pieces.append(p.storage.gathering(Array(o * block..<(o + 1) * block)))
            }
        }
        guard let s = TensorStorage.concatenating(pieces) else { throw .execution(node: io.node, reason: "mixed types") }
        frame.setOutput(io, 0, Tensor(shape: out, storage: s))
    }
}

/// Gather along `axis` with (possibly negative) int indices.
struct GatherOperator: Operator {
    let axis: Int
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let it = try frame.input(io, 1)
        let indices = try Shapes.ints(it, node: io.node)
        let a = try Shapes.normalizeAxis(axis, rank: x.shape.count, node: io.node)
        let dim = x.shape[a]
        let outer = Shapes.product(x.shape[..<a])
        let inner = Shapes.product(x.shape[(a + 1)...])
        let out = Array(x.shape[..<a]) + it.shape + Array(x.shape[(a + 1)...])
        guard let n = Tensor.count(of: out) else { throw .execution(node: io.node, reason: "output too large") }
        var idx: [Int] = []
        idx.reserveCapacity(n)
        for o in 0..<outer {
            for k in indices {
                let j = k < 0 ? k + dim : k
                guard j >= 0, j < dim else { throw .execution(node: io.node, reason: "index \(k) out of range for dimension \(dim)") }
                let base = (o * dim + j) * inner
                for i in 0..<inner { idx.append(base + i) }
            }
        }
        frame.setOutput(io, 0, Tensor(shape: out, storage: x.storage.gathering(idx)))
    }
}

/// Shape as an INT64 vector (with opset-15 start/end).
struct ShapeOperator: Operator {
    let start: Int
    let end: Int?
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let r = x.shape.count
        let s = min(max(start < 0 ? start + r : start, 0), r)
        let e = min(max((end ?? r) < 0 ? (end ?? r) + r : (end ?? r), s), r)
        let dims = x.shape[s..<e].map { Int64($0) }
        frame.setOutput(io, 0, Tensor(shape: [dims.count], int64s: Array(dims)))
    }
}

/// Slice with starts/ends/axes/steps from inputs (opset >= 10) or attributes (before).
struct SliceOperator: Operator {
    let attrStarts: [Int]?
    let attrEnds: [Int]?
    let attrAxes: [Int]?

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let rank = x.shape.count
        let starts: [Int], ends: [Int]
        var axesIn = attrAxes
        var steps: [Int]?
        if let attrStarts, let attrEnds {
            starts = attrStarts
            ends = attrEnds
        } else {
            starts = try Shapes.ints(try frame.input(io, 1), node: io.node)
            ends = try Shapes.ints(try frame.input(io, 2), node: io.node)
            if let t = frame.optionalInput(io, 3) { axesIn = try Shapes.ints(t, node: io.node) }
            if let t = frame.optionalInput(io, 4) { steps = try Shapes.ints(t, node: io.node) }
        }
        let axes = axesIn ?? Array(0..<starts.count)
        guard starts.count == ends.count, axes.count == starts.count, (steps?.count ?? starts.count) == starts.count else {
            throw .execution(node: io.node, reason: "starts/ends/axes/steps lengths differ")
        }
        var begin = [Int](repeating: 0, count: rank)
        var step = [Int](repeating: 1, count: rank)
        var out = x.shape
        for (k, axisRaw) in axes.enumerated() {
            let a = try Shapes.normalizeAxis(axisRaw, rank: rank, node: io.node)
            let dim = x.shape[a]
            let st = steps?[k] ?? 1
            guard st != 0, st > -(1 << 48), st < 1 << 48 else { throw .execution(node: io.node, reason: "invalid step \(st)") }
            // Clamp first so the arithmetic below cannot overflow on INT64_MIN/MAX sentinels.
            let s0 = min(max(starts[k], -(1 << 48)), 1 << 48), e0 = min(max(ends[k], -(1 << 48)), 1 << 48)
            var s = s0 < 0 ? s0 + dim : s0
            var e = e0 < 0 ? e0 + dim : e0
            if st > 0 {
                s = min(max(s, 0), dim)
                e = min(max(e, 0), dim)
                out[a] = e > s ? (e - s - 1) / st + 1 : 0
            } else {
                s = min(max(s, -1), dim - 1)
                e = min(max(e, -1), dim - 1)
                out[a] = s > e ? (s - e - 1) / (-st) + 1 : 0
            }
            begin[a] = s
            step[a] = st
        }
        let inStrides = Transpose.strides(x.shape)
        var base = 0
        for d in 0..<rank { base += begin[d] * inStrides[d] }
        let st = [(0..<rank).map { inStrides[$0] * step[$0] }]
        let n = out.reduce(1, *)
        var idx = [Int](repeating: 0, count: n)
        if rank == 0 { idx = n > 0 ? [0] : [] } else { Broadcast.forEach(out: out, strides: st) { i, o in idx[i] = base + o[0] } }
        frame.setOutput(io, 0, Tensor(shape: out, storage: x.storage.gathering(idx)))
    }
}
