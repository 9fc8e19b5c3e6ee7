/// ai.onnx.ml TreeEnsembleRegressor (SUM, AVERAGE, MIN, MAX aggregation).
struct TreeEnsembleRegressorOperator: Operator {
    enum Aggregate: String, Sendable {
        case sum = "SUM"
        case average = "AVERAGE"
        case min = "MIN"
        case max = "MAX"
    }
    let ensemble: TreeEnsemble
    let targets: Int
    let aggregate: Aggregate
    let baseValues: [Float]
    let post: PostTransform

    init(_ ctx: NodeContext) throws(EngineError) {
        targets = ctx.int("n_targets", 1)
        guard targets > 0, targets < 1 << 20 else { throw ctx.error("invalid n_targets") }
        ensemble = try TreeEnsemble(ctx, prefix: "target", outputs: targets)
        guard let a = Aggregate(rawValue: ctx.string("aggregate_function", "SUM")) else {
            throw ctx.error("unknown aggregate_function")
        }
        aggregate = a
        baseValues = ctx.floats("base_values")
        guard baseValues.isEmpty || baseValues.count == targets else {
            throw ctx.error("base_values do not fit n_targets")
        }
        post = try PostTransform(ctx)
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (rows, f, x) = try FeatureRows.read(frame, io)
        guard ensemble.maxFeature < f else {
            throw .execution(node: io.node, reason: "trees read feature \(ensemble.maxFeature), input has \(f)")
        }
        var y = frame.pool.floats(rows * targets)
        // Scores and "some leaf wrote this target" flags for the whole batch, filled tree by tree.
        var scores = frame.pool.floats(rows * targets, zeroed: true)
        var has = [Bool](repeating: false, count: rows * targets)
        let terminated = x.withUnsafeBufferPointer { px in
            scores.withUnsafeMutableBufferPointer { ps in
                has.withUnsafeMutableBufferPointer { ph in
                    ensemble.weightTargets.withUnsafeBufferPointer { wt in
                        ensemble.weightValues.withUnsafeBufferPointer { wv in
                            ensemble.walk(rows: rows, features: f, x: px) { r, leaf in
                                let base = r * targets
                                let start = Int(leaf.trueChild)
                                for k in start..<(start + Int(leaf.falseChild)) {
                                    let t = base + wt[k]
                                    let w = wv[k]
                                    switch aggregate {
                                    case .sum, .average: ps[t] += w
                                    case .min: ps[t] = ph[t] ? Swift.min(ps[t], w) : w
                                    case .max: ps[t] = ph[t] ? Swift.max(ps[t], w) : w
                                    }
                                    ph[t] = true
                                }
                            }
                        }
                    }
                }
            }
        }
        guard terminated else {
            frame.pool.recycle(scores)
            throw .execution(node: io.node, reason: "tree does not terminate")
        }
        scores.withUnsafeMutableBufferPointer { ps in
            y.withUnsafeMutableBufferPointer { py in
                for r in 0..<rows {
                    let row = UnsafeMutableBufferPointer(rebasing: ps[(r * targets)..<((r + 1) * targets)])
                    for t in 0..<targets {
                        var v = has[r * targets + t] ? row[t] : 0
                        if aggregate == .average { v /= Float(Swift.max(ensemble.roots.count, 1)) }
                        row[t] = v + (baseValues.isEmpty ? 0 : baseValues[t])
                    }
                    if targets >= 2 {
                        post.apply(row)
                        for t in 0..<targets { py[r * targets + t] = row[t] }
                    } else {
                        py[r] = post == .probit ? PostTransform.probit(row[0]) : row[0]
                    }
                }
            }
        }
        frame.pool.recycle(scores)
        frame.setOutput(io, 0, Tensor(shape: [rows, targets], floats: y))
    }
}

/// ai.onnx.ml TreeEnsembleClassifier, following onnxruntime's handling of the two-class cases.
struct TreeEnsembleClassifierOperator: Operator {
    let ensemble: TreeEnsemble
    let labels: ClassLabels
    let baseValues: [Float]
    let post: PostTransform
    let binaryCase: Bool
    let weightsAllPositive: Bool

    init(_ ctx: NodeContext) throws(EngineError) {
        guard let l = ClassLabels(ctx) else { throw ctx.error("no class labels") }
        labels = l
        ensemble = try TreeEnsemble(ctx, prefix: "class", outputs: l.count)
        baseValues = ctx.floats("base_values")
        post = try PostTransform(ctx)
        binaryCase = l.count == 2 && Set(ensemble.weightTargets).count == 1
        weightsAllPositive = ensemble.weightValues.allSatisfy { $0 >= 0 }
    }

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (rows, f, x) = try FeatureRows.read(frame, io)
        guard ensemble.maxFeature < f else {
            throw .execution(node: io.node, reason: "trees read feature \(ensemble.maxFeature), input has \(f)")
        }
        let classes = labels.count
        var z = frame.pool.floats(rows * classes, zeroed: true)
        var labelIndex = [Int](repeating: 0, count: rows)
        // Scores and "some leaf wrote this class" flags for the whole batch, filled tree by tree.
        var scores = frame.pool.floats(rows * classes, zeroed: true)
        var has = [Bool](repeating: false, count: rows * classes)
        let terminated = x.withUnsafeBufferPointer { px in
            scores.withUnsafeMutableBufferPointer { ps in
                has.withUnsafeMutableBufferPointer { ph in
                    ensemble.weightTargets.withUnsafeBufferPointer { wt in
                        ensemble.weightValues.withUnsafeBufferPointer { wv in
                            ensemble.walk(rows: rows, features: f, x: px) { r, leaf in
                                let base = r * classes
                                let start = Int(leaf.trueChild)
                                for k in start..<(start + Int(leaf.falseChild)) {
                                    ps[base + wt[k]] += wv[k]
                                    ph[base + wt[k]] = true
                                }
                            }
                        }
                    }
                }
            }
        }
        guard terminated else {
            frame.pool.recycle(scores)
            throw .execution(node: io.node, reason: "tree does not terminate")
        }
        scores.withUnsafeMutableBufferPointer { ps in
            has.withUnsafeMutableBufferPointer { ph in
                z.withUnsafeMutableBufferPointer { pz in
                    for r in 0..<rows {
                        let out = r * classes
                        let s = UnsafeMutableBufferPointer(rebasing: ps[out..<(out + classes)])
                        let h = UnsafeMutableBufferPointer(rebasing: ph[out..<(out + classes)])
                        if classes > 2 {
                            for k in 0..<min(baseValues.count, classes) {
                                s[k] = h[k] ? s[k] + baseValues[k] : baseValues[k]
                                h[k] = true
                            }
                            var best = -1
                            for c in 0..<classes where h[c] && (best < 0 || s[c] > s[best]) { best = c }
                            labelIndex[r] = max(best, 0)
                            post.apply(s)
                            for c in 0..<classes { pz[out + c] = s[c] }
                        } else {
                            labelIndex[r] = finalizeBinary(
                                s, h, into: pz.baseAddress! + out, classes: classes)
                        }
                    }
                }
            }
        }
        frame.pool.recycle(scores)
        frame.setOutput(io, 0, labels.tensor(labelIndex, shape: [rows]))
        frame.setOutput(io, 1, Tensor(shape: [rows, classes], floats: z))
    }

    /// One row of a one- or two-class ensemble, as onnxruntime expands it: writes the row's scores
    /// at `z` and returns the label index.
    private func finalizeBinary(
        _ scores: UnsafeMutableBufferPointer<Float>, _ has: UnsafeMutableBufferPointer<Bool>,
        into z: UnsafeMutablePointer<Float>, classes: Int
    ) -> Int {
        var s0 = scores[0]
        var s1: Float = classes > 1 ? scores[1] : 0
        let h0 = has[0]
        let h1 = classes > 1 ? has[1] : false
        var size = 2
        if baseValues.count == 2 {
            if h1 {
                s1 = baseValues[1] + s0
                s0 = -s1
            } else {
                s1 += baseValues[1]
                s0 += baseValues[0]
            }
        } else if baseValues.count == 1 {
            s0 += baseValues[0]
            if !h1 { size = 1 }
        } else if !h1 {
            size = 1
        }
        let pos = size == 2 && h1 ? s1 : (h0 ? s0 : 0)
        var add = -1
        var label: Int
        if binaryCase {
            if weightsAllPositive {
                (add, label) = pos > 0.5 ? (0, 1) : (1, 0)
            } else {
                (add, label) = pos > 0 ? (2, 1) : (3, 0)
            }
        } else {
            label = pos > 0 ? 1 : 0
        }
        label = min(label, classes - 1)
        if size == 2 {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2) { pair in
                pair[0] = s0
                pair[1] = s1
                post.apply(pair)
                for c in 0..<min(2, classes) { z[c] = pair[c] }
            }
        } else if post == .probit {
            z[0] = PostTransform.probit(s0)
        } else {
            switch add {
            case 0, 1:
                z[0] = 1 - s0
                if classes > 1 { z[1] = s0 }
            case 2, 3:
                if post == .logistic {
                    z[0] = PostTransform.logistic(-s0)
                    if classes > 1 { z[1] = PostTransform.logistic(s0) }
                } else {
                    z[0] = -s0
                    if classes > 1 { z[1] = s0 }
                }
            default: z[0] = s0
            }
        }
        return label
    }
}

/// ai.onnx.ml ZipMap: OIP has no map type, so the [N, C] scores pass through and the labels go in the signature.
struct ZipMapOperator: Operator {
    let labels: [String]

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let (xs, x) = try frame.floatInput(io, 0)
        let rows = xs.count == 1 ? 1 : (xs.first ?? 0)
        guard x.count == rows * labels.count else {
            throw .execution(node: io.node, reason: "input \(xs) does not have \(labels.count) columns")
        }
        frame.setOutput(io, 0, Tensor(shape: [rows, labels.count], floats: x))
    }
}
