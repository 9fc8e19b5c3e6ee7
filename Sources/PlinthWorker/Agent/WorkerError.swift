/// Why the worker agent could not start or talk to its control plane.
public enum WorkerError: Error, Sendable, Equatable, CustomStringConvertible {
    case setup(String)
    /// The control plane refused the node token.
    case unauthorized(Int)
    /// The control plane does not know this worker id any more (it must register again).
    case unknownWorker
    case controlPlane(status: Int, message: String)
    case transport(String)

    public var description: String {
        switch self {
        case .setup(let message): "worker setup failed: \(message)"
        case .unauthorized(let status): "control plane rejected the node token (HTTP \(status))"
        case .unknownWorker: "control plane does not know this worker; registering again"
        case .controlPlane(let status, let message): "control plane answered HTTP \(status): \(message)"
        case .transport(let message): "cannot reach the control plane: \(message)"
        }
    }
}
