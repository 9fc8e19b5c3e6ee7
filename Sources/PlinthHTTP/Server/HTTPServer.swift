import PlinthCore
import Synchronization

/// HTTP/1.1 server on epoll event loops. (Step-1 placeholder: start() is being implemented.)
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    public let router: Router

    public init(configuration: HTTPServerConfiguration, router: Router) {
        self.configuration = configuration
        self.router = router
    }

    /// Binds and starts the loops; returns the bound addresses (real port when 0 was asked).
    public func start() throws -> [ListenAddress] {
        throw HTTPServerError.bindFailed(address: "", reason: "server not implemented yet")
    }

    /// Stop accepting, finish in-flight requests within the deadline, close everything. Idempotent.
    public func shutdown() {}

    /// Blocks until shut down.
    public func wait() {}
}
