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
            guard Set(norm).count == norm.count, rank <= Limits.maxRank else {
                throw .execution(node: io.node, reason: "invalid axes \(axes)")
            }
            for a in norm.sorted() { shape.insert(1, at: a) }
        } else if let axes, !axes.isEmpty {
            var norm: [Int] = []
            for a in axes { norm.append(try Shapes.normalizeAxis(a, rank: shape.count, node: io.node)) }
            for a in Set(norm).sorted(by: >) {
                guard shape[a] == 1 else {
                    throw .execution(node: io.node, reason: "cannot squeeze dimension \(a) of \(x.shape)")
                }
                shape.remove(at: a)
            }
        } else {
            shape.removeAll { $0 == 1 }
        }
        frame.setOutput(io, 0, Tensor(shape: shape, storage: x.storage))
    }
}
