import PlinthCore

/// The OIP v2 inference pipeline for one model, without HTTP: decode, check against the
/// signature, run through the batcher, encode.
final class InferenceService: Sendable {
    /// An encoded response and the timings that go into its headers.
    struct Answer: Sendable {
        var encoded: InferenceResponseEncoder.Encoded
        var queueMicros: UInt64
        var computeMicros: UInt64
        /// Rows in the model run that served this request (merged with others by the batcher).
        var batchRows: Int
        /// Rows of this request alone.
        var requestRows: Int
    }

    let name: String
    let version: String
    let model: any ServedModel
    let executor: BatchingExecutor

    init(name: String, version: String, model: any ServedModel, executor: BatchingExecutor) {
        self.name = name
        self.version = version
        self.model = model
        self.executor = executor
    }

    /// Decodes, checks and runs a request through the batcher, blocking until it is answered.
    func infer(body: [UInt8], jsonLength: Int?) throws(InferenceError) -> Answer {
        let prepared = try prepare(body: body, jsonLength: jsonLength)
        return try answer(prepared, try executor.infer(prepared.inputs))
    }

    /// A decoded, checked request, ready to run (possibly on another thread).
    struct Prepared: Sendable {
        var id: String?
        /// In the model's input order.
        var inputs: [WireTensor]
        /// Outputs to return: their position in the model's outputs, and whether each goes binary.
        var wanted: [(output: Int, binary: Bool)]
    }

    /// Decodes and checks a request body.
    func prepare(body: [UInt8], jsonLength: Int?) throws(InferenceError) -> Prepared {
        let request = try InferenceRequestDecoder.decode(body, jsonLength: jsonLength)
        return Prepared(id: request.id, inputs: try checkInputs(request.inputs), wanted: try selectOutputs(request))
    }

    /// Runs prepared requests on this thread, merged where they can share a batch, when the
    /// batcher is idle; nil when it is not (see `BatchingExecutor.inferAllIfIdle`).
    func runAll(_ prepared: [Prepared], arrivals: [UInt64]) -> [Result<Answer, InferenceError>]? {
        guard let outcomes = executor.inferAllIfIdle(prepared.map(\.inputs), arrivals: arrivals) else { return nil }
        return zip(prepared, outcomes).map { request, outcome in
            do throws(InferenceError) { return .success(try answer(request, try outcome.get())) } catch {
                return .failure(error)
            }
        }
    }

    /// Queues a prepared request without blocking; `completion` runs on the thread that ran its
    /// batch (see `BatchingExecutor.submit`).
    func submit(_ prepared: Prepared, completion: @escaping @Sendable (Result<Answer, InferenceError>) -> Void) {
        executor.submit(prepared.inputs) { [self] result in
            completion(
                result.flatMap { outcome in
                    do throws(InferenceError) { return .success(try answer(prepared, outcome)) } catch {
                        return .failure(error)
                    }
                })
        }
    }

    /// The encoded response for a run's outcome.
    private func answer(_ prepared: Prepared, _ outcome: BatchingExecutor.Outcome) throws(InferenceError) -> Answer {
        var outputs: [ResponseOutput] = []
        outputs.reserveCapacity(prepared.wanted.count)
        let specs = model.outputs
        for (index, binary) in prepared.wanted {
            let spec = specs[index]
            guard index < outcome.outputs.count, outcome.outputs[index].name == spec.name else {
                throw .executionFailed("the model produced no output '\(spec.name)'")
            }
            outputs.append(ResponseOutput(tensor: outcome.outputs[index], binary: binary, labels: spec.labels))
        }
        let response = InferenceResponse(
            modelName: name, modelVersion: version, id: prepared.id,
            parameters: [
                ("plinth_queue_us", .int(Int64(outcome.queueMicros))),
                ("plinth_compute_us", .int(Int64(outcome.computeMicros))),
                ("plinth_batch_size", .int(Int64(outcome.batchRows))),
            ],
            outputs: outputs)
        return Answer(
            encoded: InferenceResponseEncoder.encode(response), queueMicros: outcome.queueMicros,
            computeMicros: outcome.computeMicros, batchRows: outcome.batchRows,
            requestRows: outcome.requestRows)
    }

    /// The inputs in the model's order, each matching the model's name, datatype and shape.
    func checkInputs(_ inputs: [WireTensor]) throws(InferenceError) -> [WireTensor] {
        let specs = model.inputs
        // Usually the request lists the model's inputs in its order: checked in place, no copy.
        if inputs.count == specs.count, zip(inputs, specs).allSatisfy({ $0.name == $1.name }) {
            for (input, spec) in zip(inputs, specs) { try Self.check(input, against: spec) }
            return inputs
        }
        var ordered = [WireTensor?](repeating: nil, count: specs.count)
        for input in inputs {
            guard let index = specs.firstIndex(where: { $0.name == input.name }) else {
                throw .inputMismatch(
                    "unknown input '\(input.name)'; the model's inputs are \(Self.describe(model.inputs))")
            }
            try Self.check(input, against: specs[index])
            ordered[index] = input
        }
        var checked: [WireTensor] = []
        checked.reserveCapacity(specs.count)
        for (spec, input) in zip(specs, ordered) {
            guard let input else {
                throw .inputMismatch("missing input '\(spec.name)' (\(spec.datatype) \(spec.shape))")
            }
            checked.append(input)
        }
        return checked
    }

    /// One input against the spec of the same name: datatype and shape.
    private static func check(_ input: WireTensor, against spec: TensorSpec) throws(InferenceError) {
        guard input.datatype == spec.datatype else {
            throw .inputMismatch(
                "input '\(input.name)' has datatype \(input.datatype); the model expects \(spec.datatype)")
        }
        // An empty declared shape means the model leaves the rank unknown.
        let fits =
            spec.shape.isEmpty
            || (input.shape.count == spec.shape.count
                && zip(input.shape, spec.shape).allSatisfy { $1 < 0 || $0 == $1 })
        guard fits else {
            throw .inputMismatch(
                "input '\(input.name)' has shape \(input.shape); the model expects \(spec.shape) (-1: any size)")
        }
    }

    /// The outputs to return, in order, with whether each goes binary.
    func selectOutputs(_ request: InferenceRequest) throws(InferenceError) -> [(output: Int, binary: Bool)] {
        let defaultBinary = request.binaryDataOutput
        if request.outputs.isEmpty { return model.outputs.indices.map { ($0, defaultBinary) } }
        var selected: [(output: Int, binary: Bool)] = []
        selected.reserveCapacity(request.outputs.count)
        for wanted in request.outputs {
            guard let index = model.outputs.firstIndex(where: { $0.name == wanted.name }) else {
                throw .unknownOutput(name: wanted.name, available: model.outputs.map(\.name))
            }
            selected.append((index, wanted.binaryData ?? defaultBinary))
        }
        return selected
    }

    static func describe(_ specs: [TensorSpec]) -> String {
        specs.map { "'\($0.name)' (\($0.datatype) \($0.shape))" }.joined(separator: ", ")
    }

    /// OIP model metadata JSON.
    func metadata() -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: "{\"name\":".utf8)
        InferenceResponseEncoder.appendString(name, to: &out)
        out.append(contentsOf: ",\"versions\":[".utf8)
        InferenceResponseEncoder.appendString(version, to: &out)
        out.append(contentsOf: "],\"platform\":\"plinth-onnx\",\"inputs\":".utf8)
        Self.appendSpecs(model.inputs, to: &out)
        out.append(contentsOf: ",\"outputs\":".utf8)
        Self.appendSpecs(model.outputs, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func appendSpecs(_ specs: [TensorSpec], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, spec) in specs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "{\"name\":".utf8)
            InferenceResponseEncoder.appendString(spec.name, to: &out)
            out.append(contentsOf: ",\"datatype\":\"\(spec.datatype.rawValue)\",\"shape\":[".utf8)
            out.append(contentsOf: spec.shape.map(String.init).joined(separator: ",").utf8)
            out.append(UInt8(ascii: "]"))
            if let labels = spec.labels {
                out.append(contentsOf: ",\"parameters\":".utf8)
                InferenceResponseEncoder.appendParameters([], labels: labels, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }
}
