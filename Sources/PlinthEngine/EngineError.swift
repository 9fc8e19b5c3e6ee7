/// An operator the engine cannot run, as named in the model.
public struct UnsupportedOperator: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var domain: String
    public var opset: Int

    public init(name: String, domain: String, opset: Int) {
        self.name = name
        self.domain = domain
        self.opset = opset
    }

    public var description: String { "\(domain.isEmpty ? "ai.onnx" : domain).\(name) (opset \(opset))" }
}

/// Everything that can go wrong loading or running a model, with what the caller needs to act.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is not a well-formed ONNX model (truncated, garbled, inconsistent).
    case malformed(String)
    /// One operator (or operator version) is not implemented.
    case unsupportedOperator(name: String, domain: String, opset: Int)
    /// Several operators are not implemented; all of them are listed.
    case unsupportedOperators([UnsupportedOperator])
    /// The model uses a feature the engine does not run (sparse tensors, float16, ...).
    case unsupportedFeature(String)
    /// External weight data could not be read or points outside the model's folder.
    case externalData(String)
    /// A request input is missing, unknown, or of the wrong type or shape.
    case invalidInput(name: String, reason: String)
    /// An operator failed on the data it was given (shape mismatch, out-of-range index, limits).
    case execution(node: String, reason: String)
    /// A file could not be read.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let m): return "malformed ONNX model: \(m)"
        case .unsupportedOperator(let n, let d, let o):
            return "unsupported operator \(UnsupportedOperator(name: n, domain: d, opset: o))"
        case .unsupportedOperators(let list):
            return "unsupported operators: " + list.map(\.description).joined(separator: ", ")
        case .unsupportedFeature(let m): return "unsupported model feature: \(m)"
        case .externalData(let m): return "external data: \(m)"
        case .invalidInput(let n, let r): return "invalid input '\(n)': \(r)"
        case .execution(let n, let r): return "node '\(n)' failed: \(r)"
        case .io(let p, let r): return "cannot read \(p): \(r)"
        }
    }
}

/// Hard bounds that keep hostile models from exhausting memory or the stack.
enum Limits {
    /// Largest element count of any one tensor (256 Mi elements = 1 GiB of floats).
    static let maxElements = 1 << 28
    static let maxRank = 16
    static let maxNestingDepth = 24
    static let maxNodes = 1 << 20
    /// Protobuf's own limit on a serialized message (larger models keep weights as external data).
    static let maxModelBytes = 2 << 30
}
