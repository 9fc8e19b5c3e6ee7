/// Equal: elementwise comparison with broadcasting; output BOOL.
struct EqualOperator: Operator {
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let a = try frame.input(io, 0)
        let b = try frame.input(io, 1)
        guard let out = Broadcast.shape([a.shape, b.shape]), let n = Tensor.count(of: out) else {
            throw .execution(node: io.node, reason: "shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        var r = [Bool](repeating: false, count: n)
        switch (a.storage, b.storage) {
        case (.float32(let x), .float32(let y)): Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, ==)
        case (.float64(let x), .float64(let y)): Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, ==)
        case (.int64(let x), .int64(let y)): Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, ==)
        case (.int32(let x), .int32(let y)): Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, ==)
        case (.bool(let x), .bool(let y)): Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, ==)
        case (.string(let x), .string(let y)): Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, ==)
        default: throw .execution(node: io.node, reason: "Equal of \(a.type.rawValue) and \(b.type.rawValue)")
        }
        frame.setOutput(io, 0, Tensor(shape: out, bools: r))
    }
}

/// Where(condition, X, Y) with three-way broadcasting.
struct WhereOperator: Operator {
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let c = try frame.input(io, 0)
        let x = try frame.input(io, 1)
        let y = try frame.input(io, 2)
        guard case .bool(let cond) = c.storage else {
            throw .execution(node: io.node, reason: "condition must be BOOL")
        }
        guard let out = Broadcast.shape([c.shape, x.shape, y.shape]), let n = Tensor.count(of: out) else {
            throw .execution(node: io.node, reason: "shapes \(c.shape), \(x.shape), \(y.shape) do not broadcast")
        }
        let st = [
            Broadcast.strides(c.shape, in: out), Broadcast.strides(x.shape, in: out),
            Broadcast.strides(y.shape, in: out),
        ]
        func pick<T>(_ a: [T], _ b: [T], _ zero: T) -> [T] {
            var r = [T](repeating: zero, count: n)
            Broadcast.forEach(out: out, strides: st) { i, o in r[i] = cond[o[0]] ? a[o[1]] : b[o[2]] }
            return r
        }
        let storage: TensorStorage
        switch (x.storage, y.storage) {
        case (.float32(let a), .float32(let b)): storage = .float32(pick(a, b, 0))
        case (.float64(let a), .float64(let b)): storage = .float64(pick(a, b, 0))
        case (.int64(let a), .int64(let b)): storage = .int64(pick(a, b, 0))
        case (.int32(let a), .int32(let b)): storage = .int32(pick(a, b, 0))
        case (.bool(let a), .bool(let b)): storage = .bool(pick(a, b, false))
        case (.string(let a), .string(let b)): storage = .string(pick(a, b, ""))
        default: throw .execution(node: io.node, reason: "Where of \(x.type.rawValue) and \(y.type.rawValue)")
        }
        frame.setOutput(io, 0, Tensor(shape: out, storage: storage))
    }
}
