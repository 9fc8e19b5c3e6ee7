/// Transpose by `perm` (default: reverse the dimensions).
struct TransposeOperator: Operator {
    let perm: [Int]?
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let rank = x.shape.count
        let p = perm ?? Array((0..<rank).reversed())
        guard p.count == rank, Set(p) == Set(0..<rank) else {
            throw .execution(node: io.node, reason: "perm \(p) does not fit rank \(rank)")
        }
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
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = step
            step *= shape[i]
        }
        return s
    }
}
