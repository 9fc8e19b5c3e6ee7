#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Add, Sub, Mul, Div, Pow with broadcasting; float, double and integer operands.
struct BinaryOperator: Operator {
    enum Kind: String, Sendable {
        case add = "Add"
        case sub = "Sub"
        case mul = "Mul"
        case div = "Div"
        case pow = "Pow"
    }
    let kind: Kind

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let a = try frame.input(io, 0)
        let b = try frame.input(io, 1)
        guard let out = Broadcast.shape([a.shape, b.shape]), let n = Tensor.count(of: out) else {
            throw .execution(node: io.node, reason: "shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        switch (a.storage, b.storage) {
        case (.float32(let x), .float32(let y)):
            var r = frame.pool.floats(n)
            switch kind {
            case .add: Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, +)
            case .sub: Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, -)
            case .mul: Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, *)
            case .div: Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, /)
            case .pow: Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r) { powf($0, $1) }
            }
            frame.setOutput(io, 0, Tensor(shape: out, floats: r))
        case (.float32(let x), _) where kind == .pow:
            let y = try Cast.convert(b.storage, to: .float32, node: io.node)
            guard case .float32(let yf) = y else { return }
            var r = frame.pool.floats(n)
            Broadcast.binary(x, a.shape, yf, b.shape, out: out, into: &r) { powf($0, $1) }
            frame.setOutput(io, 0, Tensor(shape: out, floats: r))
        case (.float64(let x), .float64(let y)):
            var r = [Double](repeating: 0, count: n)
            Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, doubleOp)
            frame.setOutput(io, 0, Tensor(shape: out, doubles: r))
        case (.int64(let x), .int64(let y)):
            var r = [Int64](repeating: 0, count: n)
            if kind == .div, y.contains(0) { throw .execution(node: io.node, reason: "integer division by zero") }
            Broadcast.binary(x, a.shape, y, b.shape, out: out, into: &r, intOp)
            frame.setOutput(io, 0, Tensor(shape: out, int64s: r))
        case (.int32(let x), .int32(let y)):
            var r = [Int64](repeating: 0, count: n)
            if kind == .div, y.contains(0) { throw .execution(node: io.node, reason: "integer division by zero") }
            Broadcast.binary(x.map(Int64.init), a.shape, y.map(Int64.init), b.shape, out: out, into: &r, intOp)
            frame.setOutput(io, 0, Tensor(shape: out, int32s: r.map { Int32(truncatingIfNeeded: $0) }))
        default:
            throw .execution(
                node: io.node, reason: "\(kind.rawValue) of \(a.type.rawValue) and \(b.type.rawValue) is not supported")
        }
    }

    private var doubleOp: (Double, Double) -> Double {
        switch kind {
        case .add: return (+)
        case .sub: return (-)
        case .mul: return (*)
        case .div: return (/)
        case .pow: return { Glibc.pow($0, $1) }
        }
    }

    private var intOp: (Int64, Int64) -> Int64 {
        switch kind {
        case .add: return (&+)
        case .sub: return (&-)
        case .mul: return (&*)
        case .div: return { $1 == 0 ? 0 : ($0 == .min && $1 == -1 ? .min : $0 / $1) }
        case .pow:
            return { base, exp in
                guard exp >= 0 else { return 0 }
                var r: Int64 = 1
                for _ in 0..<min(exp, 64) { r = r &* base }
                return r
            }
        }
    }
}
