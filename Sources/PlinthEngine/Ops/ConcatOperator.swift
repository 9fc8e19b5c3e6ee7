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
            guard p.shape.count == rank, p.type == first.type else {
                throw .execution(node: io.node, reason: "inputs differ in rank or type")
            }
            for d in 0..<rank where d != a && p.shape[d] != first.shape[d] {
                throw .execution(node: io.node, reason: "shapes \(first.shape) and \(p.shape) differ off axis \(a)")
            }
            out[a] += p.shape[a]
        }
        let outer = Shapes.product(first.shape[..<a])
        if outer == 1 {
            guard let s = TensorStorage.concatenating(parts.map(\.storage)) else {
                throw .execution(node: io.node, reason: "mixed types")
            }
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
        guard let s = TensorStorage.concatenating(pieces) else {
            throw .execution(node: io.node, reason: "mixed types")
        }
        frame.setOutput(io, 0, Tensor(shape: out, storage: s))
    }
}
