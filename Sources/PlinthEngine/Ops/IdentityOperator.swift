/// Identity, Dropout (inference) and ZipMap's data path: the input passes through unchanged.
struct IdentityOperator: Operator {
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        frame.setOutput(io, 0, try frame.input(io, 0))
        if frame.wantsOutput(io, 1) {
            // Dropout's mask output: all true in inference.
            let t = try frame.input(io, 0)
            frame.setOutput(io, 1, Tensor(shape: t.shape, bools: [Bool](repeating: true, count: t.elementCount)))
        }
    }
}
