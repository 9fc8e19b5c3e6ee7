/// The trees of a TreeEnsembleRegressor/Classifier, flattened for traversal.
struct TreeEnsemble: Sendable {
    enum Mode: UInt8, Sendable { case leq, lt, gte, gt, eq, neq, leaf }

    struct Node: Sendable {
        var feature: Int
        var threshold: Float
        var mode: Mode
        var trueChild: Int
        var falseChild: Int
        var missingTracksTrue: Bool
        var weightStart: Int
        var weightCount: Int
    }

    let nodes: [Node]
    let roots: [Int]
    let weightTargets: [Int]
    let weightValues: [Float]
    let maxFeature: Int

    /// Builds from the node and leaf-weight attributes; `prefix` is "target" or "class".
    init(_ ctx: NodeContext, prefix: String, outputs: Int) throws(EngineError) {
        // ai.onnx.ml 3 may carry thresholds and weights as double tensors instead of float lists;
        // evaluating those in float could flip branches, so refuse rather than answer differently.
        if let name = ctx.attributes.keys.sorted().first(where: { $0.hasSuffix("_as_tensor") }) {
            throw .unsupportedFeature("\(ctx.node.opType) attribute '\(name)' (double-precision trees)")
        }
        let treeIds = ctx.int64s("nodes_treeids")
        let nodeIds = ctx.int64s("nodes_nodeids")
        let features = ctx.int64s("nodes_featureids")
        let values = ctx.floats("nodes_values")
        let modes = ctx.strings("nodes_modes")
        let trues = ctx.int64s("nodes_truenodeids")
        let falses = ctx.int64s("nodes_falsenodeids")
        let missing = ctx.int64s("nodes_missing_value_tracks_true")
        let n = treeIds.count
        guard n > 0, nodeIds.count == n, features.count == n, modes.count == n, trues.count == n, falses.count == n,
            values.count == n || values.isEmpty, missing.isEmpty || missing.count == n
        else { throw ctx.error("nodes_* attributes have different lengths") }
        var index: [Int64: [Int64: Int]] = [:]
        for i in 0..<n {
            guard index[treeIds[i], default: [:]][nodeIds[i]] == nil else {
                throw ctx.error("duplicate node \(treeIds[i])/\(nodeIds[i])")
            }
            index[treeIds[i], default: [:]][nodeIds[i]] = i
        }
        var built: [Node] = []
        built.reserveCapacity(n)
        var isChild = [Bool](repeating: false, count: n)
        var maxF = -1
        for i in 0..<n {
            let mode: Mode
            switch modes[i] {
            case "BRANCH_LEQ": mode = .leq
            case "BRANCH_LT": mode = .lt
            case "BRANCH_GTE": mode = .gte
            case "BRANCH_GT": mode = .gt
            case "BRANCH_EQ": mode = .eq
            case "BRANCH_NEQ": mode = .neq
            case "LEAF": mode = .leaf
            default: throw ctx.error("unknown node mode \(modes[i])")
            }
            var t = -1
            var f = -1
            if mode != .leaf {
                guard let ti = index[treeIds[i]]?[trues[i]], let fi = index[treeIds[i]]?[falses[i]], ti != i, fi != i
                else {
                    throw ctx.error("node \(treeIds[i])/\(nodeIds[i]) points to a missing child")
                }
                t = ti
                f = fi
                isChild[ti] = true
                isChild[fi] = true
                guard features[i] >= 0, features[i] < 1 << 24 else {
                    throw ctx.error("invalid feature id \(features[i])")
                }
                maxF = max(maxF, Int(features[i]))
            }
            built.append(
                Node(
                    feature: Int(max(features[i], 0)), threshold: values.isEmpty ? 0 : values[i], mode: mode,
                    trueChild: t, falseChild: f, missingTracksTrue: !missing.isEmpty && missing[i] != 0,
                    weightStart: 0, weightCount: 0))
        }
        // Leaf weights, grouped per node.
        let wTrees = ctx.int64s("\(prefix)_treeids")
        let wNodes = ctx.int64s("\(prefix)_nodeids")
        let wIds = ctx.int64s("\(prefix)_ids")
        let wValues = ctx.floats("\(prefix)_weights")
        guard wTrees.count == wNodes.count, wIds.count == wNodes.count, wValues.count == wNodes.count else {
            throw ctx.error("\(prefix)_* attributes have different lengths")
        }
        var perNode = [[(Int, Float)]](repeating: [], count: n)
        for k in 0..<wTrees.count {
            guard let i = index[wTrees[k]]?[wNodes[k]] else {
                throw ctx.error("weight for missing node \(wTrees[k])/\(wNodes[k])")
            }
            guard wIds[k] >= 0, wIds[k] < outputs else {
                throw ctx.error("\(prefix) id \(wIds[k]) out of range 0..<\(outputs)")
            }
            perNode[i].append((Int(wIds[k]), wValues[k]))
        }
        var targets: [Int] = []
        var weights: [Float] = []
        for i in 0..<n {
            built[i].weightStart = targets.count
            built[i].weightCount = perNode[i].count
            for (t, w) in perNode[i] {
                targets.append(t)
                weights.append(w)
            }
        }
        // One root per tree: the node no other node points to.
        var rootList: [Int] = []
        var seenTrees = Set<Int64>()
        for i in 0..<n where !isChild[i] {
            guard seenTrees.insert(treeIds[i]).inserted else {
                throw ctx.error("tree \(treeIds[i]) has more than one root")
            }
            rootList.append(i)
        }
        guard seenTrees.count == index.count else { throw ctx.error("a tree has no root (cycle)") }
        nodes = built
        roots = rootList
        weightTargets = targets
        weightValues = weights
        maxFeature = maxF
    }

    /// The leaf reached from `root` for one row; bounded by the node count so a cycle cannot hang.
    @inline(__always)
    func leaf(_ root: Int, _ row: UnsafeBufferPointer<Float>) -> Int? {
        var i = root
        var steps = 0
        while true {
            let node = nodes[i]
            if node.mode == .leaf { return i }
            let v = row[node.feature]
            let c: Bool
            switch node.mode {
            case .leq: c = v <= node.threshold
            case .lt: c = v < node.threshold
            case .gte: c = v >= node.threshold
            case .gt: c = v > node.threshold
            case .eq: c = v == node.threshold
            case .neq: c = v != node.threshold
            case .leaf: c = false
            }
            i = (c || (node.missingTracksTrue && v.isNaN)) ? node.trueChild : node.falseChild
            steps += 1
            if steps > nodes.count { return nil }
        }
    }
}
