/// Why the usage journal failed. An I/O failure is sticky: once appends cannot be made durable
/// the gateway must stop serving metered requests (answer 503) rather than serve them unmetered.
public enum JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// The journal was closed.
    case closed
    /// An event does not fit one record (identifiers far too long).
    case recordTooLarge(Int)

    public var description: String {
        switch self {
        case .io(let op, let path, let e): "usage journal \(op) failed on \(path): errno \(e)"
        case .closed: "usage journal is closed"
        case .recordTooLarge(let n): "usage record of \(n) bytes exceeds the limit"
        }
    }
}
