/// Where a client sends requests.
public enum HTTPEndpoint: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Replica socket paths are long and share their prefix; their ends tell them apart. Equal
    /// endpoints still hash equally (the hash reads a subset of what `==` compares). Pools are
    /// looked up by endpoint on every forwarded request.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .tcp(let host, let port):
            hasher.combine(0 as UInt8)
            hasher.combine(host)
            hasher.combine(port)
        case .unix(let path):
            hasher.combine(1 as UInt8)
            let utf8 = path.utf8
            hasher.combine(utf8.count)
            let tail: Void? = utf8.withContiguousStorageIfAvailable { bytes in
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.suffix(24))))
            }
            if tail == nil { Array(utf8.suffix(24)).withUnsafeBytes { hasher.combine(bytes: $0) } }
        }
    }

    /// "http://host:port", "http://[::1]:port", "http://host" (port 80), "unix:/path".
    public init(url: String) throws {
        if url.hasPrefix("unix:") {
            let path = String(url.dropFirst(5))
            guard !path.isEmpty else { throw HTTPClientError.connectFailed("invalid endpoint '\(url)'") }
            self = .unix(path: path)
            return
        }
        guard url.hasPrefix("http://") else { throw HTTPClientError.connectFailed("invalid endpoint '\(url)'") }
        var authority = url.dropFirst(7)
        if let slash = authority.firstIndex(of: "/") {
            guard authority[slash...] == "/" else {
                throw HTTPClientError.connectFailed("endpoint must not have a path: '\(url)'")
            }
            authority = authority[..<slash]
        }
        guard let (host, port) = HostPort.split(String(authority)) else {
            throw HTTPClientError.connectFailed("invalid endpoint '\(url)'")
        }
        self = .tcp(host: host, port: port ?? 80)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}

/// Client settings.
public struct HTTPClientConfiguration: Sendable {
    public var connectTimeout: Duration
    /// Longest wait for any piece of the response (and for the socket to accept request bytes).
    public var readTimeout: Duration
    public var maxIdleConnectionsPerEndpoint: Int

    public init() {
        connectTimeout = .seconds(5)
        readTimeout = .seconds(60)
        maxIdleConnectionsPerEndpoint = 16
    }
}

/// A request body for the client.
public enum HTTPClientRequestBody: Sendable {
    case bytes([UInt8])
    /// The closure is called with a `write` function; sent with Content-Length when `length` is given, else chunked.
    case stream(length: Int?, @Sendable (_ write: ([UInt8]) throws -> Void) throws -> Void)
}

/// A request as the client sends it.
public struct HTTPClientRequest: Sendable {
    public var method: HTTPMethod
    /// Path plus "?query".
    public var path: String
    public var headers: HTTPHeaders
    public var body: HTTPClientRequestBody

    public init(method: HTTPMethod, path: String, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = .bytes(body)
    }
}

/// A fully buffered response.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Client failures.
public enum HTTPClientError: Error, Sendable, Equatable {
    case connectFailed(String)
    case timedOut
    case connectionClosed
    case malformedResponse(String)
}
