/// Per-route behaviour the server needs before it reads the body.
public struct RouteOptions: Sendable {
    /// Largest accepted body (buffered or streamed); exceeded → 413. Default 1 MiB.
    public var maxBodyBytes: Int
    /// The handler gets `request.bodyStream`; the body is not buffered.
    public var streamingBody: Bool
    /// For trivial non-blocking handlers (health): run on the event loop, no thread hop.
    /// Default false = the handler thread pool, where blocking is fine.
    public var runsOnEventLoop: Bool

    public init(maxBodyBytes: Int = 1 << 20, streamingBody: Bool = false, runsOnEventLoop: Bool = false) {
        self.maxBodyBytes = maxBodyBytes
        self.streamingBody = streamingBody
        self.runsOnEventLoop = runsOnEventLoop
    }
}

/// One registered route. A class: a match hands it out per request, and a struct copy retained
/// each of its fields.
final class Route: Sendable {
    let method: HTTPMethod
    let pattern: String
    let parameterNames: [String]
    let options: RouteOptions
    let handler: HTTPHandler
    /// Set for routes added with `addAsync`: run on the event loop, answered through a responder.
    /// `handler` then wraps it and waits for the answer (pool threads and `Router.handle`).
    let asyncHandler: HTTPAsyncHandler?

    init(
        method: HTTPMethod, pattern: String, parameterNames: [String], options: RouteOptions,
        handler: @escaping HTTPHandler, asyncHandler: HTTPAsyncHandler? = nil
    ) {
        self.method = method
        self.pattern = pattern
        self.parameterNames = parameterNames
        self.options = options
        self.handler = handler
        self.asyncHandler = asyncHandler
    }
}

/// Handler signature: runs on a handler thread (or the event loop for `runsOnEventLoop` routes).
public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Asynchronous handler: runs on the event loop and must not block; answers through `responder`
/// exactly once, inline or later from any thread. A thrown error is answered like a sync handler's.
public typealias HTTPAsyncHandler = @Sendable (HTTPRequest, HTTPResponder) throws -> Void
