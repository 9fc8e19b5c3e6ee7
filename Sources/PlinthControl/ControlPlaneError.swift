/// Why the control plane could not start.
public enum ControlPlaneError: Error, Sendable, CustomStringConvertible {
    case dataDirectory(String)
    case keyFile(String)
    case bootstrap(String)

    public var description: String {
        switch self {
        case .dataDirectory(let m): "data directory: \(m)"
        case .keyFile(let m): "JWT key file: \(m)"
        case .bootstrap(let m): "bootstrap: \(m)"
        }
    }
}
