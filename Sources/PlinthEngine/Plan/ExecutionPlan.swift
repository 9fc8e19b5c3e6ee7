/// A model compiled for execution: steps in topological order over numbered value slots.
struct ExecutionPlan: Sendable {
    struct Step: Sendable {
        let op: any Operator
        let io: StepIO
    }

    let steps: [Step]
    let slotCount: Int
    let constants: [(Int, Tensor)]
    let inputs: [(signature: TensorSignature, slot: Int)]
    let outputs: [(signature: TensorSignature, slot: Int)]
    /// Slots written by steps and not returned: their buffers go back to the pool after a run.
    let intermediates: [Int]
    /// Output slots written by steps (not constants): cleared after a run.
    let computedOutputs: [Int]
}

/// Builds an ExecutionPlan from a decoded model: validates, sorts, folds constants, packs weights.
struct PlanBuilder {
    let model: ModelProto
    let decoder: TensorDecoder

    func build() throws(EngineError) -> ExecutionPlan {
        guard model.hasGraph else { throw .malformed("the model has no graph") }
        let graph = model.graph
        guard !graph.hasSparseInitializers else { throw .unsupportedFeature("sparse initializers") }
        var opsets: [String: Int] = [:]
        for imp in model.opsetImports {
            let d = imp.domain == "ai.onnx" ? "" : imp.domain
            opsets[d] = max(opsets[d] ?? 0, imp.version)
        }
        if opsets.isEmpty { opsets[""] = 1 }  // IR version 1-2 files carry no imports

        // 1. Every operator known, or one error listing all that are not.
        var unsupported: [UnsupportedOperator] = []
        for node in graph.nodes {
            let domain = node.domain == "ai.onnx" ? "" : node.domain
            let opset = opsets[domain] ?? 0
            let item = UnsupportedOperator(name: node.opType, domain: node.domain, opset: opset)
            if !OperatorRegistry.isSupported(opType: node.opType, domain: domain, opset: opset),
                !unsupported.contains(item)
            {
                unsupported.append(item)
            }
        }
        if unsupported.count == 1 {
            throw .unsupportedOperator(
                name: unsupported[0].name, domain: unsupported[0].domain, opset: unsupported[0].opset)
        }
        if !unsupported.isEmpty { throw .unsupportedOperators(unsupported) }

        // 2. Slots: each name defined exactly once.
        var slotOf: [String: Int] = [:]
        var constants: [Int: Tensor] = [:]
        func define(_ name: String) throws(EngineError) -> Int {
            guard slotOf[name] == nil else { throw .malformed("value '\(name)' is defined more than once") }
            let s = slotOf.count
            slotOf[name] = s
            return s
        }
        for t in graph.initializers {
            guard !t.name.isEmpty else { throw .malformed("an initializer has no name") }
            constants[try define(t.name)] = try decoder.tensor(t)
        }
        var inputSlots: [(TensorSignature, Int)] = []
        for vi in graph.inputs where slotOf[vi.name].map({ constants[$0] == nil }) ?? true {
            // Old exporters list initializers as inputs too; those stay constants.
            inputSlots.append((try signature(vi), try define(vi.name)))
        }
        var producer: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for out in node.outputs where !out.isEmpty {
                _ = try define(out)
                producer[out] = i
            }
        }

        // 3. Topological order (Kahn); undefined inputs and cycles are errors.
        var indegree = [Int](repeating: 0, count: graph.nodes.count)
        var consumers = [[Int]](repeating: [], count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() {
            for inp in node.inputs where !inp.isEmpty {
                guard slotOf[inp] != nil else {
                    throw .malformed("input '\(inp)' of node '\(node.name)' (\(node.opType)) is not defined")
                }
                if let p = producer[inp] {
                    indegree[i] += 1
                    consumers[p].append(i)
                }
            }
        }
        var ready = (0..<graph.nodes.count).filter { indegree[$0] == 0 }.reversed().map { $0 }
        var order: [Int] = []
        while let i = ready.popLast() {
            order.append(i)
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.append(c) }
            }
        }
        guard order.count == graph.nodes.count else { throw .malformed("the graph has a cycle") }

        // 4. Compile each node; run nodes whose inputs are all constant now (constant folding).
        var steps: [ExecutionPlan.Step] = []
        let graphOutputNames = Set(graph.outputs.map(\.name))
        var fusedAway = Set<Int>()
        for i in order where !fusedAway.contains(i) {
            let node = graph.nodes[i]
            let domain = node.domain == "ai.onnx" ? "" : node.domain
            var constInputs: [Int: Tensor] = [:]
            for (k, inp) in node.inputs.enumerated() where !inp.isEmpty {
                if let s = slotOf[inp], let t = constants[s] { constInputs[k] = t }
            }
            let ctx = NodeContext(node: node, opset: opsets[domain] ?? 0, constantInputs: constInputs)
            // Every name was given a slot above (outputs) or checked to have one (inputs); -1 = absent.
            let outSlots = node.outputs.map { $0.isEmpty ? -1 : slotOf[$0] ?? -1 }
            if node.opType == "Constant" && domain.isEmpty {
                guard let s = outSlots.first, s >= 0 else { throw ctx.error("Constant without an output") }
                constants[s] = try OperatorRegistry.constant(ctx, decoder: decoder)
                continue
            }
            var op = try OperatorRegistry.make(ctx)
            var io = StepIO(
                inputs: node.inputs.map { $0.isEmpty ? -1 : slotOf[$0] ?? -1 }, outputs: outSlots, node: ctx.name)
            // MatMul(x, constant W) feeding only Add(·, constant [N]): one GEMM with the bias fused.
            if var matmul = op as? MatMulOperator, let packed = matmul.packed, node.outputs.count == 1,
                !graphOutputNames.contains(node.outputs[0]), consumers[i].count == 1
            {
                let j = consumers[i][0]
                let add = graph.nodes[j]
                if add.opType == "Add", add.domain.isEmpty || add.domain == "ai.onnx", add.inputs.count == 2,
                    let other = add.inputs.first(where: { $0 != node.outputs[0] }),
                    add.inputs.contains(node.outputs[0]), let s = slotOf[other], let bias = constants[s],
                    bias.shape == [packed.n], let values = bias.floats, add.outputs.count == 1, !add.outputs[0].isEmpty
                {
                    matmul.bias = values
                    op = matmul
                    io = StepIO(inputs: io.inputs, outputs: [slotOf[add.outputs[0]] ?? -1], node: ctx.name + "+" + add.name)
                    fusedAway.insert(j)
                }
            }
            let allConstant =
                node.inputs.allSatisfy { $0.isEmpty || slotOf[$0].map { constants[$0] != nil } ?? false }
                && !node.inputs.isEmpty
            if allConstant {
                var scratch = Frame(slotCount: slotOf.count, constants: constants.map { ($0.key, $0.value) })
                try op.run(&scratch, io)
                for s in outSlots where s >= 0 {
                    guard let t = scratch.values[s] else { throw ctx.error("produced no value while folding") }
                    constants[s] = t
                }
                continue
            }
            steps.append(.init(op: op, io: io))
        }

        // 5. Outputs: defined values; ZipMap outputs carry their labels.
        var outputs: [(TensorSignature, Int)] = []
        for vi in graph.outputs {
            guard let s = slotOf[vi.name] else { throw .malformed("graph output '\(vi.name)' is not produced") }
            var sig = try signature(vi)
            if let p = producer[vi.name], graph.nodes[p].opType == "ZipMap" {
                let ctx = NodeContext(
                    node: graph.nodes[p], opset: opsets[OperatorRegistry.mlDomain] ?? 1, constantInputs: [:])
                sig.labels = ClassLabels(ctx)?.descriptions
                sig.type = .float32
                sig.shape = [-1, sig.labels?.count ?? -1]
            }
            outputs.append((sig, s))
        }
        let outputSet = Set(outputs.map(\.1))
        let inputSet = Set(inputSlots.map(\.1))
        let written = Set(steps.flatMap { $0.io.outputs.filter { $0 >= 0 } })
        return ExecutionPlan(
            steps: steps, slotCount: slotOf.count, constants: constants.map { ($0.key, $0.value) },
            inputs: inputSlots.map { (signature: $0.0, slot: $0.1) },
            outputs: outputs.map { (signature: $0.0, slot: $0.1) },
            intermediates: written.subtracting(outputSet).subtracting(inputSet).sorted(),
            computedOutputs: outputSet.intersection(written).sorted())
    }

    private func signature(_ vi: ValueInfoProto) throws(EngineError) -> TensorSignature {
        switch vi.type {
        case .tensor(let elem, let shape):
            guard let t = TensorType(onnxDataType: elem) else {
                throw .unsupportedFeature("value '\(vi.name)' has element type \(elem)")
            }
            let dims = (shape ?? []).map { d -> Int in if case .fixed(let n) = d, n >= 0 { return n } else { return -1 }
            }
            var sig = TensorSignature(name: vi.name, type: t, shape: dims)
            sig.rankKnown = shape != nil
            return sig
        case .sequence(.some(.map(_, _))):
            return TensorSignature(name: vi.name, type: .float32, shape: [-1, -1])
        case .none:
            var sig = TensorSignature(name: vi.name, type: .float32, shape: [])
            sig.rankKnown = false
            return sig
        default:
            throw .unsupportedFeature("value '\(vi.name)' has a type other than a tensor or a sequence of maps")
        }
    }
}
