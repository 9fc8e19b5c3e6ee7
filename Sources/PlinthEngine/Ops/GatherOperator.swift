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
                guard j >= 0, j < dim else {
                    throw .execution(node: io.node, reason: "index \(k) out of range for dimension \(dim)")
                }
                let base = (o * dim + j) * inner
                for i in 0..<inner { idx.append(base + i) }
            }
        }
        frame.setOutput(io, 0, Tensor(shape: out, storage: x.storage.gathering(idx)))
    }
}
