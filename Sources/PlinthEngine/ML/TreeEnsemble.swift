/// The trees of a TreeEnsembleRegressor/Classifier, flattened for traversal.
///
/// Nodes are kept as 16-byte records (`PackedNode`) so a tree of a few hundred nodes stays in L1/L2
/// while a batch of rows walks it: `walk` goes trees outer, rows inner, which keeps the per-row
/// order of leaf weights (tree order) and so the exact sums of a row-by-row walk.
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

    /// One node in 16 bytes. `info` holds the feature index (bits 0–23), the mode (bits 24–26)
    /// and missing-tracks-true (bit 27). A leaf keeps its first weight index in `trueChild` and its
    /// weight count in `falseChild`.
    struct PackedNode: Sendable {
        var threshold: Float
        var info: UInt32
        var trueChild: Int32
        var falseChild: Int32

        @inline(__always) var feature: Int { Int(info & 0xFF_FFFF) }
        @inline(__always) var mode: UInt32 { (info >> 24) & 7 }
        @inline(__always) var missingTracksTrue: Bool { info & (1 << 27) != 0 }
    }

    /// `Mode.leaf.rawValue`, as a constant for the walk.
    static var leafMode: UInt32 { 6 }

    let nodes: [PackedNode]
    let roots: [Int]
    /// Every branch is BRANCH_LEQ without missing-tracks-true (scikit-learn's trees): the walk then
    /// only tests `info >= 1 << 24` for a leaf and `v <= threshold` for a branch.
    let onlyLessOrEqual: Bool
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
        guard n > 0, n < Int(Int32.max), nodeIds.count == n, features.count == n, modes.count == n, trues.count == n,
            falses.count == n,
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
        guard targets.count < Int(Int32.max) else { throw ctx.error("too many leaf weights") }
        nodes = built.map { node in
            // Branch features were checked to be < 1 << 24; a leaf's feature id is never read.
            var info = (node.mode == .leaf ? 0 : UInt32(node.feature)) | UInt32(node.mode.rawValue) << 24
            if node.missingTracksTrue { info |= 1 << 27 }
            return node.mode == .leaf
                ? PackedNode(
                    threshold: node.threshold, info: info, trueChild: Int32(node.weightStart),
                    falseChild: Int32(node.weightCount))
                : PackedNode(
                    threshold: node.threshold, info: info, trueChild: Int32(node.trueChild),
                    falseChild: Int32(node.falseChild))
        }
        onlyLessOrEqual = built.allSatisfy { $0.mode == .leaf || ($0.mode == .leq && !$0.missingTracksTrue) }
        roots = rootList
        weightTargets = targets
        weightValues = weights
        maxFeature = maxF
    }

    /// Walks every tree for every row (trees outer, rows inner) and calls `visit(row, leaf)` with the
    /// leaf reached; rows are `features` floats apart at `x`. Returns false if a walk takes more steps
    /// than there are nodes (a cycle), so a hostile model cannot hang a run.
    @inline(__always)
    func walk(
        rows: Int, features: Int, x: UnsafeBufferPointer<Float>, _ visit: (_ row: Int, _ leaf: PackedNode) -> Void
    ) -> Bool {
        guard rows > 0 else { return true }
        guard let base = x.baseAddress else {
            // Rows without features: only branch-free trees get here (maxFeature < features), so
            // no feature is read and any valid address will do.
            var none: Float = 0
            return withUnsafePointer(to: &none) { walk(rows: rows, features: 0, x: $0, visit) }
        }
        return walk(rows: rows, features: features, x: base, visit)
    }

    @inline(__always)
    private func walk(
        rows: Int, features: Int, x: UnsafePointer<Float>, _ visit: (_ row: Int, _ leaf: PackedNode) -> Void
    ) -> Bool {
        let limit = nodes.count
        return nodes.withUnsafeBufferPointer { buffer in
            let nodes = buffer.baseAddress!
            for root in roots {
                var first = 0
                if onlyLessOrEqual {
                    // Four rows walk the tree in lockstep: their load chains overlap instead of each
                    // waiting on its own node loads.
                    while first + 4 <= rows {
                        let (x0, x1, x2, x3) = (
                            x + first * features, x + (first + 1) * features, x + (first + 2) * features,
                            x + (first + 3) * features
                        )
                        var (n0, n1, n2, n3) = (nodes[root], nodes[root], nodes[root], nodes[root])
                        var steps = 0
                        // Leaves have bits 25 and 26 set (mode 6) and branches no bit ≥ 24, so the AND
                        // is ≥ 1 << 24 exactly when all four rows have reached a leaf.
                        while (n0.info & n1.info & n2.info & n3.info) < 1 << 24 {
                            if n0.info < 1 << 24 {
                                n0 = nodes[Int(x0[Int(n0.info)] <= n0.threshold ? n0.trueChild : n0.falseChild)]
                            }
                            if n1.info < 1 << 24 {
                                n1 = nodes[Int(x1[Int(n1.info)] <= n1.threshold ? n1.trueChild : n1.falseChild)]
                            }
                            if n2.info < 1 << 24 {
                                n2 = nodes[Int(x2[Int(n2.info)] <= n2.threshold ? n2.trueChild : n2.falseChild)]
                            }
                            if n3.info < 1 << 24 {
                                n3 = nodes[Int(x3[Int(n3.info)] <= n3.threshold ? n3.trueChild : n3.falseChild)]
                            }
                            steps += 1
                            if steps > limit { return false }
                        }
                        visit(first, n0)
                        visit(first + 1, n1)
                        visit(first + 2, n2)
                        visit(first + 3, n3)
                        first += 4
                    }
                }
                for r in first..<rows {
                    let row = x + r * features
                    var node = nodes[root]
                    var steps = 0
                    if onlyLessOrEqual {
                        // Branches have info < 1 << 24 here (mode 0, no missing flag); leaves do not.
                        while node.info < 1 << 24 {
                            let next = row[Int(node.info)] <= node.threshold ? node.trueChild : node.falseChild
                            node = nodes[Int(next)]
                            steps += 1
                            if steps > limit { return false }
                        }
                        visit(r, node)
                    } else {
                        while node.mode != Self.leafMode {
                            let v = row[node.feature]
                            let t = node.threshold
                            let c: Bool
                            switch node.mode {
                            case 0: c = v <= t
                            case 1: c = v < t
                            case 2: c = v >= t
                            case 3: c = v > t
                            case 4: c = v == t
                            default: c = v != t
                            }
                            let next = c || (node.missingTracksTrue && v.isNaN) ? node.trueChild : node.falseChild
                            node = nodes[Int(next)]
                            steps += 1
                            if steps > limit { return false }
                        }
                        visit(r, node)
                    }
                }
            }
            return true
        }
    }
}
