/// Why a model artifact could not be cached.
public enum ArtifactError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidDigest(String)
    case digestMismatch(expected: String, actual: String)
    case sizeMismatch(expected: UInt64, actual: UInt64)
    case tooLarge(limit: UInt64)
    case downloadFailed(String)
    case io(String)

    public var description: String {
        switch self {
        case .invalidDigest(let digest): "'\(digest)' is not a lower-case hex SHA-256"
        case .digestMismatch(let expected, let actual): "artifact digest mismatch: expected \(expected), got \(actual)"
        case .sizeMismatch(let expected, let actual):
            "artifact size mismatch: expected \(expected) bytes, got \(actual)"
        case .tooLarge(let limit): "artifact larger than its declared \(limit) bytes"
        case .downloadFailed(let message): "artifact download failed: \(message)"
        case .io(let message): "artifact cache: \(message)"
        }
    }
}
