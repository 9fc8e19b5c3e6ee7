/// A compiled node: attributes parsed and constants prepared at load, run per request.
protocol Operator: Sendable {
    func run(_ frame: inout Frame, _ io: StepIO) throws(EngineError)
}

/// What an operator factory sees of a node while the plan is built.
struct NodeContext {
    let node: NodeProto
    let opset: Int
    let attributes: [String: AttributeProto]
    /// Constant inputs (initializers and folded results) by input position.
    let constantInputs: [Int: Tensor]

    var name: String { node.name.isEmpty ? node.opType : node.name }

    init(node: NodeProto, opset: Int, constantInputs: [Int: Tensor]) {
        self.node = node
        self.opset = opset
        self.constantInputs = constantInputs
        var attrs: [String: AttributeProto] = [:]
        for a in node.attributes { attrs[a.name] = a }
        self.attributes = attrs
    }

    func error(_ reason: String) -> EngineError { .malformed("node '\(name)' (\(node.opType)): \(reason)") }

    func int(_ key: String, _ fallback: Int) -> Int {
        attributes[key].map { Int(truncatingIfNeeded: $0.i) } ?? fallback
    }
    func float(_ key: String, _ fallback: Float) -> Float { attributes[key]?.f ?? fallback }
    func string(_ key: String, _ fallback: String) -> String {
        attributes[key].map { String(decoding: $0.s, as: UTF8.self) } ?? fallback
    }
    func ints(_ key: String) -> [Int]? { attributes[key].map { $0.ints.map { Int(truncatingIfNeeded: $0) } } }
    func int64s(_ key: String) -> [Int64] { attributes[key]?.ints ?? [] }
    func floats(_ key: String) -> [Float] { attributes[key]?.floats ?? [] }
    func strings(_ key: String) -> [String] {
        (attributes[key]?.strings ?? []).map { String(decoding: $0, as: UTF8.self) }
    }
    func has(_ key: String) -> Bool { attributes[key] != nil }

    var inputCount: Int { node.inputs.count }
    func hasInput(_ i: Int) -> Bool { i < node.inputs.count && !node.inputs[i].isEmpty }

    /// Integer values of a constant input (axes, shapes, pads), or nil when it is not constant.
    func constantInts(_ i: Int) -> [Int]? {
        guard let t = constantInputs[i] else { return nil }
        switch t.storage {
        case .int64(let v): return v.map { Int(truncatingIfNeeded: $0) }
        case .int32(let v): return v.map { Int($0) }
        default: return nil
        }
    }
}

/// Helpers shared by operators.
enum Shapes {
    static func normalizeAxis(_ axis: Int, rank: Int, node: String) throws(EngineError) -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else {
            throw .execution(node: node, reason: "axis \(axis) out of range for rank \(rank)")
        }
        return a
    }

    static func product(_ dims: ArraySlice<Int>) -> Int { dims.reduce(1, *) }

    /// Integer values of any integer tensor (shape inputs, indices, axes).
    static func ints(_ t: Tensor, node: String) throws(EngineError) -> [Int] {
        switch t.storage {
        case .int64(let v): return v.map { Int(truncatingIfNeeded: $0) }
        case .int32(let v): return v.map { Int($0) }
        default: throw .execution(node: node, reason: "expected an integer tensor, got \(t.type.rawValue)")
        }
    }
}
