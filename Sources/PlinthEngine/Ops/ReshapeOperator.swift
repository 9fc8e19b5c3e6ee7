/// Reshape (0 copies a dimension unless allowzero, -1 is inferred). Shares the input's storage.
struct ReshapeOperator: Operator {
    let allowZero: Bool
    let attrShape: [Int]?

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let spec: [Int]
        if let attrShape { spec = attrShape } else { spec = try Shapes.ints(try frame.input(io, 1), node: io.node) }
        frame.setOutput(
            io, 0,
            Tensor(
                shape: try ReshapeOperator.resolve(spec, input: x.shape, allowZero: allowZero, node: io.node),
                storage: x.storage))
    }

    static func resolve(_ spec: [Int], input: [Int], allowZero: Bool, node: String) throws(EngineError) -> [Int] {
        let total = input.reduce(1, *)
        var out = spec
        var inferred: Int?
        for (i, d) in spec.enumerated() {
            if d == 0 && !allowZero {
                guard i < input.count else {
                    throw .execution(node: node, reason: "shape \(spec) copies dimension \(i) of \(input)")
                }
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
            guard known > 0, total % known == 0 else {
                throw .execution(node: node, reason: "cannot reshape \(input) to \(spec)")
            }
            out[k] = total / known
        }
        guard Tensor.count(of: out) == total else {
            throw .execution(node: node, reason: "cannot reshape \(input) to \(spec)")
        }
        return out
    }
}

/// Flatten to 2-D at `axis`.
struct FlattenOperator: Operator {
    let axis: Int
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let a = axis < 0 ? axis + x.shape.count : axis
        guard a >= 0, a <= x.shape.count else {
            throw .execution(node: io.node, reason: "axis \(axis) out of range for \(x.shape)")
        }
        frame.setOutput(
            io, 0, Tensor(shape: [Shapes.product(x.shape[..<a]), Shapes.product(x.shape[a...])], storage: x.storage))
    }
}
