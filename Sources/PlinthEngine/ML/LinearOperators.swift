/// ai.onnx.ml LinearRegressor: Y = X·coefficientsᵀ + intercepts, one column per target.
struct LinearRegressorOperator: Operator {
    let coefficients: [Float]
    let intercepts: [Float]
    let targets: Int
    let post: PostTransform

    init(_ ctx: NodeContext) throws(EngineError) {
        coefficients = ctx.floats("coefficients")
        intercepts = ctx.floats("intercepts")
        targets = ctx.int("targets", 1)
        post = try PostTransform(ctx)
        guard targets > 0, targets <= max(coefficients.count, 1), coefficients.count % targets == 0,
            intercepts.isEmpty || intercepts.count == targets
        else {
            throw ctx.error("coefficients/intercepts do not fit \(targets) targets")
        }
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (rows, f, x) = try FeatureRows.read(frame, io)
        guard f * targets == coefficients.count else {
            throw .execution(node: io.node, reason: "expected \(coefficients.count / targets) features, got \(f)")
        }
        var y = frame.pool.floats(rows * targets)
        for r in 0..<rows {
            for t in 0..<targets {
                var s = intercepts.isEmpty ? 0 : intercepts[t]
                for j in 0..<f { s += x[r * f + j] * coefficients[t * f + j] }
                y[r * targets + t] = s
            }
            if targets > 1 {
                y.withUnsafeMutableBufferPointer {
                    post.apply(UnsafeMutableBufferPointer(rebasing: $0[(r * targets)..<((r + 1) * targets)]))
                }
            }
        }
        if targets == 1 && post == .probit { for i in 0..<y.count { y[i] = PostTransform.probit(y[i]) } }
        frame.setOutput(io, 0, Tensor(shape: [rows, targets], floats: y))
    }
}

/// ai.onnx.ml LinearClassifier, including onnxruntime's one-score binary expansion.
struct LinearClassifierOperator: Operator {
    let coefficients: [Float]
    let intercepts: [Float]
    let classes: Int
    let labels: ClassLabels
    let post: PostTransform

    init(_ ctx: NodeContext) throws(EngineError) {
        coefficients = ctx.floats("coefficients")
        intercepts = ctx.floats("intercepts")
        post = try PostTransform(ctx)
        guard let l = ClassLabels(ctx, intsKey: "classlabels_ints") else { throw ctx.error("no class labels") }
        labels = l
        classes = intercepts.isEmpty ? l.count : intercepts.count
        guard classes > 0, coefficients.count % classes == 0,
            (classes >= 2 && classes == l.count) || (classes == 1 && l.count == 2)
        else {
            throw ctx.error("\(classes) classes of coefficients do not fit \(l.count) labels")
        }
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (rows, f, x) = try FeatureRows.read(frame, io)
        guard f * classes == coefficients.count else {
            throw .execution(node: io.node, reason: "expected \(coefficients.count / classes) features, got \(f)")
        }
        let binary = classes == 1
        let width = binary ? 2 : classes
        var z = frame.pool.floats(rows * width)
        var labelIndex = [Int](repeating: 0, count: rows)
        var scores = [Float](repeating: 0, count: classes)
        for r in 0..<rows {
            x.withUnsafeBufferPointer { x in
                coefficients.withUnsafeBufferPointer { coefficients in
                    for c in 0..<classes {
                        var s = intercepts.isEmpty ? 0 : intercepts[c]
                        for j in 0..<f { s += x[r * f + j] * coefficients[c * f + j] }
                        scores[c] = s
                    }
                }
            }
            if binary {
                let s = scores[0]
                labelIndex[r] = s > 0 ? 1 : 0
                // onnxruntime transforms the one score, then writes [1 - v, v].
                var v = s
                if post == .logistic {
                    v = PostTransform.logistic(s)
                } else if post == .probit {
                    v = PostTransform.probit(s)
                }
                z[r * 2] = 1 - v
                z[r * 2 + 1] = v
            } else {
                var best = 0
                for c in 1..<classes where scores[c] > scores[best] { best = c }
                labelIndex[r] = best
                scores.withUnsafeMutableBufferPointer { post.apply($0) }
                for c in 0..<classes { z[r * classes + c] = scores[c] }
            }
        }
        frame.setOutput(io, 0, labels.tensor(labelIndex, shape: [rows]))
        frame.setOutput(io, 1, Tensor(shape: [rows, width], floats: z))
    }
}
