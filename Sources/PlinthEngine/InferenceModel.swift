import PlinthCore
import Synchronization

/// A loaded ONNX model, validated and compiled, ready to run from any thread.
///
/// Loading decodes the protobuf by hand, rejects unknown operators (listing all of them),
/// folds constant subgraphs and pre-packs constant matrix weights. `run` is thread-safe: each
/// call borrows an execution context (value slots and reusable buffers) from a pool.
public final class InferenceModel: Sendable {
    /// The model's inputs, in declaration order (initializers listed as inputs are left out).
    public let inputs: [TensorSignature]
    /// The model's outputs; ZipMap outputs are FP32 [N, C] with `labels` in column order.
    public let outputs: [TensorSignature]
    /// Opset versions by domain ("" is ai.onnx).
    public let opsetImports: [String: Int]
    public let producer: String
    public let irVersion: Int

    private let plan: ExecutionPlan
    private let frames = Mutex<[Frame]>([])

    /// Loads a model file; external data is read only from inside the file's folder.
    public convenience init(path: String) throws(EngineError) {
        let bytes = try FileBytes.read(path: path, maxBytes: Limits.maxModelBytes)
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            dir = String(path[..<slash]).isEmpty ? "/" : String(path[..<slash])
        } else {
            dir = "."
        }
        try self.init(bytes: bytes, directory: dir)
    }

    /// Loads a model from bytes; `directory` is where external data may be found (nil: none allowed).
    public init(bytes: [UInt8], directory: String?) throws(EngineError) {
        let model = try ModelProto(decoding: bytes)
        let plan = try PlanBuilder(model: model, decoder: TensorDecoder(directory: directory)).build()
        self.plan = plan
        inputs = plan.inputs.map(\.signature)
        outputs = plan.outputs.map(\.signature)
        var imports: [String: Int] = [:]
        for o in model.opsetImports {
            imports[o.domain == "ai.onnx" ? "" : o.domain] = max(imports[o.domain] ?? 0, o.version)
        }
        opsetImports = imports
        producer = model.producerVersion.isEmpty ? model.producerName : "\(model.producerName) \(model.producerVersion)"
        irVersion = model.irVersion
        try selfCheck()
    }

    /// Runs the model. Every declared input must be given, with its type and a shape matching
    /// the declared one (dynamic dimensions free). Returns every declared output by name.
    public func run(_ given: [String: Tensor]) throws(EngineError) -> [String: Tensor] {
        for name in given.keys where !plan.inputs.contains(where: { $0.signature.name == name }) {
            throw .invalidInput(name: name, reason: "the model has no such input; expected \(inputs.map(\.name))")
        }
        var ordered: [Tensor] = []
        ordered.reserveCapacity(plan.inputs.count)
        for (sig, _) in plan.inputs {
            guard let t = given[sig.name] else { throw Self.missing(sig) }
            try InferenceModel.check(t, against: sig)  // in order, so the first bad input is the one named
            ordered.append(t)
        }
        let results = try run(inputs: ordered)
        var result: [String: Tensor] = [:]
        for (index, sig) in outputs.enumerated() { result[sig.name] = results[index] }
        return result
    }

    /// Runs the model on inputs in `inputs` order (each checked as by `run(_:)`); returns the
    /// outputs in `outputs` order. The serving path: no names looked up per request.
    public func run(inputs given: [Tensor]) throws(EngineError) -> [Tensor] {
        guard given.count == plan.inputs.count else {
            if given.count < plan.inputs.count { throw Self.missing(plan.inputs[given.count].signature) }
            throw .invalidInput(
                name: "#\(plan.inputs.count)",
                reason: "the model has \(plan.inputs.count) inputs (\(inputs.map(\.name))), \(given.count) were given")
        }
        var frame = frames.withLock { $0.popLast() } ?? Frame(slotCount: plan.slotCount, constants: plan.constants)
        defer {
            for (_, slot) in plan.inputs { frame.values[slot] = nil }
            for slot in plan.intermediates {
                if case .float32(let v)? = frame.values[slot]?.storage { frame.pool.recycle(v) }
                frame.values[slot] = nil
            }
            for slot in plan.computedOutputs { frame.values[slot] = nil }
            let done = frame
            frames.withLock { $0.append(done) }
        }
        for (index, (sig, slot)) in plan.inputs.enumerated() {
            let t = given[index]
            try InferenceModel.check(t, against: sig)
            frame.values[slot] = t
        }
        for step in plan.steps { try step.op.run(&frame, step.io) }
        var result: [Tensor] = []
        result.reserveCapacity(plan.outputs.count)
        for (sig, slot) in plan.outputs {
            guard let t = frame.values[slot] else {
                throw .execution(node: sig.name, reason: "output was not produced")
            }
            result.append(t)
        }
        return result
    }

    private static func missing(_ sig: TensorSignature) -> EngineError {
        .invalidInput(name: sig.name, reason: "missing; expected \(sig.type.rawValue) \(sig.shape)")
    }

    static func check(_ t: Tensor, against sig: TensorSignature) throws(EngineError) {
        guard t.type == sig.type else {
            throw .invalidInput(
                name: sig.name, reason: "expected datatype \(sig.type.rawValue), got \(t.type.rawValue)")
        }
        guard t.isConsistent else {
            throw .invalidInput(name: sig.name, reason: "shape \(t.shape) does not hold \(t.elementCount) elements")
        }
        guard sig.rankKnown else { return }
        let ok = t.shape.count == sig.shape.count && zip(t.shape, sig.shape).allSatisfy { $1 < 0 || $0 == $1 }
        guard ok else {
            let want = "[" + sig.shape.map { $0 < 0 ? "-1" : String($0) }.joined(separator: ", ") + "]"
            throw .invalidInput(name: sig.name, reason: "expected shape \(want) (-1 = any), got \(t.shape)")
        }
    }

    /// Runs once at load on zero inputs so inconsistent static shapes fail here, not on the first
    /// request; also warms the buffer pool. Dynamic dimensions are tried as 1, then as 2 (a model
    /// may need an even batch); the model is rejected only when both fail.
    private func selfCheck() throws(EngineError) {
        var firstError: EngineError?
        for dynamic in [1, 2] {
            guard let probe = probeInputs(dynamic: dynamic) else { return }
            do {
                _ = try run(probe)
                return
            } catch {
                if firstError == nil { firstError = error }
            }
            if !inputs.contains(where: { $0.shape.contains { $0 < 0 } }) { break }
        }
        if let firstError { throw .malformed("shape check on zero inputs failed: \(firstError)") }
    }

    /// Zero tensors for every input, or nil when a shape is unknown or too large to probe.
    private func probeInputs(dynamic: Int) -> [String: Tensor]? {
        var probe: [String: Tensor] = [:]
        for sig in inputs {
            guard sig.rankKnown else { return nil }
            let shape = sig.shape.map { $0 < 0 ? dynamic : $0 }
            guard let n = Tensor.count(of: shape), n <= 1 << 22 else { return nil }
            let storage: TensorStorage
            switch sig.type {
            case .float32: storage = .float32(.init(repeating: 0, count: n))
            case .float64: storage = .float64(.init(repeating: 0, count: n))
            case .int64: storage = .int64(.init(repeating: 0, count: n))
            case .int32: storage = .int32(.init(repeating: 0, count: n))
            case .bool: storage = .bool(.init(repeating: false, count: n))
            case .string: storage = .string(.init(repeating: "", count: n))
            }
            probe[sig.name] = Tensor(shape: shape, storage: storage)
        }
        return probe
    }
}
