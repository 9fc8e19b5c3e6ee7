import Foundation

/// Server settings; a plain struct with defaults.
public struct HTTPServerConfiguration: Sendable {
    public var listen: [ListenAddress]
    /// Event-loop threads, each with its own SO_REUSEPORT listener and epoll. Default: active processor count.
    public var eventLoopCount: Int
    /// Threads that run handlers (blocking work is fine there). Default 32.
    public var handlerThreadCount: Int
    /// Largest request line + header block; past it → 431.
    public var maxHeaderBytes: Int
    /// Most header fields; past it → 431.
    public var maxHeaderCount: Int
    /// Most open connections across all loops; past it new connections are closed at once.
    public var maxConnections: Int
    /// Most requests of one connection whose async handlers run at once (HTTP/1.1 pipelining);
    /// answers still leave in request order. Past it the connection's input waits.
    public var maxPipelinedRequests: Int
    /// Time allowed to send a complete request head once its first byte arrived.
    public var headerTimeout: Duration
    /// Longest gap allowed between pieces of a request body.
    public var bodyTimeout: Duration
    /// Time a keep-alive connection may sit with no request.
    public var idleTimeout: Duration
    /// How long `shutdown()` lets in-flight requests finish.
    public var shutdownDeadline: Duration
    /// One JSON line per request via PlinthCore.Logger.
    public var accessLog: Bool

    public init(listen: [ListenAddress]) {
        self.listen = listen
        eventLoopCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
        handlerThreadCount = 32
        maxHeaderBytes = 16 * 1024
        maxHeaderCount = 100
        maxConnections = 10_000
        maxPipelinedRequests = 32
        headerTimeout = .seconds(10)
        bodyTimeout = .seconds(30)
        idleTimeout = .seconds(60)
        shutdownDeadline = .seconds(10)
        accessLog = false
    }
}
