/// Sink for a streamed response body. `write` blocks while the client is slow (backpressure)
/// and throws `HTTPBodyError.disconnected` once the client is gone.
public final class HTTPBodyWriter: Sendable {
    private let sink: @Sendable ([UInt8]) throws -> Void

    /// A writer that hands every chunk to `sink` (the server's connection, or a collector in tests).
    public init(_ sink: @escaping @Sendable ([UInt8]) throws -> Void) {
        self.sink = sink
    }

    /// Sends `bytes` as the next piece of the body. Empty writes are ignored.
    public func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try sink(bytes)
    }
}
