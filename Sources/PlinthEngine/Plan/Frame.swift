/// One execution context: value slots for a run plus recycled buffers.
///
/// A frame is used by one run at a time (taken from the model's pool under a lock), so its
/// buffers are reused across runs without synchronisation.
struct Frame: Sendable {
    var values: [Tensor?]
    var pool = BufferPool()

    init(slotCount: Int, constants: [(Int, Tensor)]) {
        values = [Tensor?](repeating: nil, count: slotCount)
        for (slot, tensor) in constants { values[slot] = tensor }
    }
}

/// Float buffers kept between runs, keyed by element count (the "arena keyed by shape").
struct BufferPool: Sendable {
    private var free: [Int: [[Float]]] = [:]

    /// A buffer of exactly `count` floats; its contents are unspecified unless `zeroed`.
    mutating func floats(_ count: Int, zeroed: Bool = false) -> [Float] {
        if var buffer = free[count]?.popLast() {
            if zeroed { buffer.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
            return buffer
        }
        return [Float](repeating: 0, count: count)
    }

    mutating func recycle(_ buffer: [Float]) {
        guard buffer.count > 0 else { return }
        free[buffer.count, default: []].append(buffer)
    }
}

/// Arguments of one step: where its inputs come from and where its outputs go (-1 = absent).
struct StepIO: Sendable {
    let inputs: [Int]
    let outputs: [Int]
    let node: String
}

/// Accessors operators use to read inputs and write outputs.
extension Frame {
    func input(_ io: StepIO, _ index: Int) throws(EngineError) -> Tensor {
        guard index < io.inputs.count, io.inputs[index] >= 0, let t = values[io.inputs[index]] else {
            throw .execution(node: io.node, reason: "input \(index) is missing")
        }
        return t
    }

    func optionalInput(_ io: StepIO, _ index: Int) -> Tensor? {
        guard index < io.inputs.count, io.inputs[index] >= 0 else { return nil }
        return values[io.inputs[index]]
    }

    func floatInput(_ io: StepIO, _ index: Int) throws(EngineError) -> (shape: [Int], data: [Float]) {
        let t = try input(io, index)
        guard case .float32(let v) = t.storage else {
            throw .execution(node: io.node, reason: "input \(index) must be FP32, got \(t.type.rawValue)")
        }
        return (t.shape, v)
    }

    func wantsOutput(_ io: StepIO, _ index: Int) -> Bool { index < io.outputs.count && io.outputs[index] >= 0 }

    mutating func setOutput(_ io: StepIO, _ index: Int, _ tensor: Tensor) {
        guard index < io.outputs.count, io.outputs[index] >= 0 else { return }
        values[io.outputs[index]] = tensor
    }

    /// A pooled float buffer for an output of `shape`, after checking the size limit.
    mutating func floatBuffer(_ io: StepIO, shape: [Int], zeroed: Bool = false) throws(EngineError) -> [Float] {
        guard let n = Tensor.count(of: shape) else {
            throw .execution(
                node: io.node, reason: "output shape \(shape) is invalid or exceeds \(Limits.maxElements) elements")
        }
        return pool.floats(n, zeroed: zeroed)
    }
}
