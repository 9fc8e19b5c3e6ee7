/// Why an inference request failed; `status` is the HTTP status it maps to (the one place).
public enum InferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is not valid JSON (byte offset into the JSON header, what was expected).
    case malformedJSON(offset: Int, reason: String)
    /// Valid JSON that is not a valid OIP v2 request.
    case invalidRequest(String)
    /// The binary tensor section does not match the JSON header.
    case invalidBinaryData(String)
    /// An input the model does not have, a missing one, or one of the wrong datatype or shape.
    case inputMismatch(String)
    /// An output name the model does not have.
    case unknownOutput(name: String, available: [String])
    /// No such model or version here.
    case modelNotFound(String)
    /// The model failed while running (not the caller's fault).
    case executionFailed(String)
    /// Shutting down: no new work is accepted.
    case unavailable
    /// Too many requests already queued for the model.
    case overloaded

    public var description: String {
        switch self {
        case .malformedJSON(let offset, let reason): "malformed JSON at byte \(offset): \(reason)"
        case .invalidRequest(let message): message
        case .invalidBinaryData(let message): "binary tensor data: \(message)"
        case .inputMismatch(let message): message
        case .unknownOutput(let name, let available):
            "unknown output '\(name)'; the model's outputs are \(available.map { "'\($0)'" }.joined(separator: ", "))"
        case .modelNotFound(let message): message
        case .executionFailed(let message): "model execution failed: \(message)"
        case .unavailable: "the runtime is shutting down"
        case .overloaded: "too many requests queued for this model; retry later"
        }
    }

    /// HTTP status for this error.
    public var status: Int {
        switch self {
        case .malformedJSON, .invalidRequest, .invalidBinaryData, .inputMismatch, .unknownOutput: 400
        case .modelNotFound: 404
        case .executionFailed: 500
        case .unavailable, .overloaded: 503
        }
    }
}
