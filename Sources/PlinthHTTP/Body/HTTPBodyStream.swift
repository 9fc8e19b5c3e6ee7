import Synchronization

/// Errors a streaming request body can raise while a handler reads it.
public enum HTTPBodyError: Error, Sendable, Equatable {
    case disconnected
    case timedOut
    case tooLarge(limit: Int)
    case malformed(String)
}

/// Where a body stream pulls its bytes from: the server's connection, or memory in tests.
protocol HTTPBodySource: Sendable {
    func read(maxBytes: Int) throws -> [UInt8]?
    var declaredLength: Int? { get }
}

/// Pull-based request body for streaming routes (uploads). Called from a handler thread; blocks
/// until bytes arrive. The server buffers at most a small window per connection and stops reading
/// the socket while the handler is behind.
public final class HTTPBodyStream: Sendable {
    let source: any HTTPBodySource

    init(source: any HTTPBodySource) {
        self.source = source
    }

    /// A stream over bytes already in memory, served in chunks of at most `chunkSize` (for tests and adapters).
    public convenience init(bytes: [UInt8], chunkSize: Int = 64 * 1024) {
        self.init(source: MemoryBodySource(bytes: bytes, chunkSize: chunkSize))
    }

    /// Next chunk (at most `maxBytes`), nil at end of body. Throws `HTTPBodyError` on client
    /// disconnect, body timeout, malformed chunked framing or when the route's body limit is exceeded.
    public func read(maxBytes: Int = 1 << 20) throws -> [UInt8]? {
        try source.read(maxBytes: max(1, maxBytes))
    }

    /// Content-Length when the client gave one.
    public var declaredLength: Int? { source.declaredLength }

    /// Reads the rest of the body into memory, failing with `.tooLarge` past `limit` bytes.
    public func readAll(limit: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = try read() {
            if out.count + chunk.count > limit { throw HTTPBodyError.tooLarge(limit: limit) }
            out += chunk
        }
        return out
    }
}

/// In-memory body source.
final class MemoryBodySource: HTTPBodySource {
    private let state: Mutex<(bytes: [UInt8], offset: Int)>
    private let chunkSize: Int
    let declaredLength: Int?

    init(bytes: [UInt8], chunkSize: Int) {
        state = Mutex((bytes, 0))
        self.chunkSize = max(1, chunkSize)
        declaredLength = bytes.count
    }

    func read(maxBytes: Int) throws -> [UInt8]? {
        state.withLock { s in
            guard s.offset < s.bytes.count else { return nil }
            let n = min(maxBytes, chunkSize, s.bytes.count - s.offset)
            defer { s.offset += n }
            return Array(s.bytes[s.offset..<s.offset + n])
        }
    }
}
