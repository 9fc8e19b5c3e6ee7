/// Blocking client with a keep-alive pool per endpoint. Thread-safe. (Step-1 placeholder.)
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration

    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.configuration = configuration
    }

    public func send(_ request: HTTPClientRequest, to endpoint: HTTPEndpoint) throws -> HTTPClientResponse {
        throw HTTPClientError.connectFailed("client not implemented yet")
    }

    /// Streams the response body to `onChunk` instead of buffering it (artifact downloads).
    public func send(
        _ request: HTTPClientRequest, to endpoint: HTTPEndpoint,
        onHead: (Int, HTTPHeaders) throws -> Void, onChunk: ([UInt8]) throws -> Void
    ) throws {
        throw HTTPClientError.connectFailed("client not implemented yet")
    }
}
