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
        var scores = [Float](repeating: 0, count: targets)
        var has = [Bool](repeating: false, count: targets)
        try x.withUnsafeBufferPointer { (px) throws(EngineError) in
            for r in 0..<rows {
                for t in 0..<targets {
                    scores[t] = 0
                    has[t] = false
                }
                let row = UnsafeBufferPointer(rebasing: px[(r * f)..<((r + 1) * f)])
                for root in ensemble.roots {
                    guard let leaf = ensemble.leaf(root, row) else {
                        throw .execution(node: io.node, reason: "tree does not terminate")
                    }
                    let node = ensemble.nodes[leaf]
                    for k in node.weightStart..<(node.weightStart + node.weightCount) {
                        let t = ensemble.weightTargets[k]
                        let w = ensemble.weightValues[k]
                        switch aggregate {
                        case .sum, .average: scores[t] += w
                        case .min: scores[t] = has[t] ? Swift.min(scores[t], w) : w
                        case .max: scores[t] = has[t] ? Swift.max(scores[t], w) : w
                        }
                        has[t] = true
                    }
                }
                for t in 0..<targets {
                    var v = has[t] ? scores[t] : 0
                    if aggregate == .average { v /= Float(Swift.max(ensemble.roots.count, 1)) }
                    scores[t] = v + (baseValues.isEmpty ? 0 : baseValues[t])
                }
                if targets >= 2 {
                    scores.withUnsafeMutableBufferPointer { post.apply($0) }
                    for t in 0..<targets { y[r * targets + t] = scores[t] }
                } else {
                    y[r] = post == .probit ? PostTransform.probit(scores[0]) : scores[0]
                }
            }
        }
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
        var scores = [Float](repeating: 0, count: classes)
        var has = [Bool](repeating: false, count: classes)
        try x.withUnsafeBufferPointer { (px) throws(EngineError) in
            for r in 0..<rows {
                for c in 0..<classes {
                    scores[c] = 0
                    has[c] = false
                }
                let row = UnsafeBufferPointer(rebasing: px[(r * f)..<((r + 1) * f)])
                for root in ensemble.roots {
                    guard let leaf = ensemble.leaf(root, row) else {
                        throw .execution(node: io.node, reason: "tree does not terminate")
                    }
                    let node = ensemble.nodes[leaf]
                    for k in node.weightStart..<(node.weightStart + node.weightCount) {
                        scores[ensemble.weightTargets[k]] += ensemble.weightValues[k]
                        has[ensemble.weightTargets[k]] = true
                    }
                }
                let out = r * classes
                if classes > 2 {
                    for k in 0..<min(baseValues.count, classes) {
                        scores[k] = has[k] ? scores[k] + baseValues[k] : baseValues[k]
                        has[k] = true
                    }
                    var best = -1
                    for c in 0..<classes where has[c] && (best < 0 || scores[c] > scores[best]) { best = c }
                    labelIndex[r] = max(best, 0)
                    scores.withUnsafeMutableBufferPointer { post.apply($0) }
                    for c in 0..<classes { z[out + c] = scores[c] }
                } else {
                    labelIndex[r] = finalizeBinary(&z, at: out, classes: classes)
                }
            }
        }
        frame.setOutput(io, 0, labels.tensor(labelIndex, shape: [rows]))
        frame.setOutput(io, 1, Tensor(shape: [rows, classes], floats: z))

        func finalizeBinary(_ z: inout [Float], at out: Int, classes: Int) -> Int {
            var s = scores
            var h = has
            if classes < 2 {
                s.append(0)
                h.append(false)
            }
            var size = 2
            if baseValues.count == 2 {
                if h[1] {
                    s[1] = baseValues[1] + s[0]
                    s[0] = -s[1]
                } else {
                    s[1] += baseValues[1]
                    s[0] += baseValues[0]
                }
            } else if baseValues.count == 1 {
                s[0] += baseValues[0]
                if !h[1] { size = 1 }
            } else if !h[1] {
                size = 1
            }
            let pos = size == 2 && h[1] ? s[1] : (h[0] ? s[0] : 0)
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
                s.withUnsafeMutableBufferPointer { post.apply(UnsafeMutableBufferPointer(rebasing: $0[0..<2])) }
                for c in 0..<min(2, classes) { z[out + c] = s[c] }
            } else if post == .probit {
                z[out] = PostTransform.probit(s[0])
            } else {
                switch add {
                case 0, 1:
                    z[out] = 1 - s[0]
                    if classes > 1 { z[out + 1] = s[0] }
                case 2, 3:
                    if post == .logistic {
                        z[out] = PostTransform.logistic(-s[0])
                        if classes > 1 { z[out + 1] = PostTransform.logistic(s[0]) }
                    } else {
                        z[out] = -s[0]
                        if classes > 1 { z[out + 1] = s[0] }
                    }
                default: z[out] = s[0]
                }
            }
            return label
        }
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
