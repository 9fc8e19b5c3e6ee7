/// Shape as an INT64 vector (with opset-15 start/end).
struct ShapeOperator: Operator {
    let start: Int
    let end: Int?
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let r = x.shape.count
        let s = min(max(start < 0 ? start + r : start, 0), r)
        let e = min(max((end ?? r) < 0 ? (end ?? r) + r : (end ?? r), s), r)
        let dims = x.shape[s..<e].map { Int64($0) }
        frame.setOutput(io, 0, Tensor(shape: [dims.count], int64s: Array(dims)))
    }
}

/// Slice with starts/ends/axes/steps from inputs (opset >= 10) or attributes (before).
struct SliceOperator: Operator {
    let attrStarts: [Int]?
    let attrEnds: [Int]?
    let attrAxes: [Int]?

    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError) {
        let x = try frame.input(io, 0)
        let rank = x.shape.count
        let starts: [Int]
        let ends: [Int]
        var axesIn = attrAxes
        var steps: [Int]?
        if let attrStarts, let attrEnds {
            starts = attrStarts
            ends = attrEnds
        } else {
            starts = try Shapes.ints(try frame.input(io, 1), node: io.node)
            ends = try Shapes.ints(try frame.input(io, 2), node: io.node)
            if let t = frame.optionalInput(io, 3) { axesIn = try Shapes.ints(t, node: io.node) }
            if let t = frame.optionalInput(io, 4) { steps = try Shapes.ints(t, node: io.node) }
        }
        let axes = axesIn ?? Array(0..<starts.count)
        guard starts.count == ends.count, axes.count == starts.count, (steps?.count ?? starts.count) == starts.count
        else {
            throw .execution(node: io.node, reason: "starts/ends/axes/steps lengths differ")
        }
        var begin = [Int](repeating: 0, count: rank)
        var step = [Int](repeating: 1, count: rank)
        var out = x.shape
        for (k, axisRaw) in axes.enumerated() {
            let a = try Shapes.normalizeAxis(axisRaw, rank: rank, node: io.node)
            let dim = x.shape[a]
            let st = steps?[k] ?? 1
            guard st != 0, st > -(1 << 48), st < 1 << 48 else {
                throw .execution(node: io.node, reason: "invalid step \(st)")
            }
            // Clamp first so the arithmetic below cannot overflow on INT64_MIN/MAX sentinels.
            let s0 = min(max(starts[k], -(1 << 48)), 1 << 48)
            let e0 = min(max(ends[k], -(1 << 48)), 1 << 48)
            var s = s0 < 0 ? s0 + dim : s0
            var e = e0 < 0 ? e0 + dim : e0
            if st > 0 {
                s = min(max(s, 0), dim)
                e = min(max(e, 0), dim)
                out[a] = e > s ? (e - s - 1) / st + 1 : 0
            } else {
                s = min(max(s, -1), dim - 1)
                e = min(max(e, -1), dim - 1)
                out[a] = s > e ? (s - e - 1) / (-st) + 1 : 0
            }
            begin[a] = s
            step[a] = st
        }
        let inStrides = Transpose.strides(x.shape)
        var base = 0
        for d in 0..<rank { base += begin[d] * inStrides[d] }
        let st = [(0..<rank).map { inStrides[$0] * step[$0] }]
        let n = out.reduce(1, *)
        var idx = [Int](repeating: 0, count: n)
        if rank == 0 {
            idx = n > 0 ? [0] : []
        } else {
            Broadcast.forEach(out: out, strides: st) { i, o in idx[i] = base + o[0] }
        }
        frame.setOutput(io, 0, Tensor(shape: out, storage: x.storage.gathering(idx)))
    }
}
