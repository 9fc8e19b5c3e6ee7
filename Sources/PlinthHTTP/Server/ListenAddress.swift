/// Where a server listens.
public enum ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// IPv4 or IPv6 literal or "localhost"; port 0 = ephemeral.
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// "127.0.0.1:8080", "[::1]:80", "localhost:8080", "unix:/path".
    public static func parse(_ s: String) throws -> ListenAddress {
        if s.hasPrefix("unix:") {
            let path = String(s.dropFirst(5))
            guard !path.isEmpty, path.utf8.count < 108 else { throw HTTPServerError.invalidAddress(s) }
            return .unix(path: path)
        }
        guard let (host, port) = HostPort.split(s), let port else { throw HTTPServerError.invalidAddress(s) }
        return .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}

/// Splits "host:port" / "[v6]:port" / "host".
enum HostPort {
    static func split(_ s: String) -> (host: String, port: Int?)? {
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            let host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            if rest.isEmpty { return host.isEmpty ? nil : (host, nil) }
            guard rest.first == ":", let port = Int(rest.dropFirst()), (0...65535).contains(port), !host.isEmpty else {
                return nil
            }
            return (host, port)
        }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return parts[0].isEmpty ? nil : (String(parts[0]), nil)
        case 2:
            guard let port = Int(parts[1]), (0...65535).contains(port) else { return nil }
            return (parts[0].isEmpty ? "0.0.0.0" : String(parts[0]), port)
        default: return nil
        }
    }
}

/// Errors starting or running a server.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(String)
    case bindFailed(address: String, reason: String)
    case systemCall(name: String, errno: Int32)
    case alreadyStarted

    public var description: String {
        switch self {
        case .invalidAddress(let s): "invalid listen address '\(s)'"
        case .bindFailed(let address, let reason): "cannot listen on \(address): \(reason)"
        case .systemCall(let name, let code): "\(name) failed: errno \(code)"
        case .alreadyStarted: "server already started"
        }
    }
}
