import Foundation
import PlinthHTTP

/// Starts an `HTTPServer` on an ephemeral loopback port (and optionally a Unix socket) for tests.
/// Call `stop()` (or let the test's teardown do it).
public final class TestHTTPServer: Sendable {
    public let server: HTTPServer
    /// Bound addresses in the order asked (the first is the TCP loopback one).
    public let addresses: [ListenAddress]

    /// - Parameters:
    ///   - configure: adjust the configuration (timeouts, limits) before start.
    ///   - extraListen: more addresses to listen on (e.g. `.unix(path:)`, `.tcp(host: "::1", port: 0)`).
    public init(
        router: Router, extraListen: [ListenAddress] = [],
        configure: (inout HTTPServerConfiguration) -> Void = { _ in }
    ) throws {
        var config = HTTPServerConfiguration(listen: [.tcp(host: "127.0.0.1", port: 0)] + extraListen)
        config.eventLoopCount = 2
        config.handlerThreadCount = 4
        configure(&config)
        server = HTTPServer(configuration: config, router: router)
        addresses = try server.start()
    }

    /// The TCP port of the first listen address.
    public var port: Int {
        if case .tcp(_, let port) = addresses[0] { return port }
        return 0
    }

    /// "http://127.0.0.1:<port>".
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var endpoint: HTTPEndpoint { .tcp(host: "127.0.0.1", port: port) }

    public func stop() { server.shutdown() }
}
