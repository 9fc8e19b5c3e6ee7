import PlinthCore
import Synchronization

/// Method + path-pattern router: "/v1/tenants/{tenant}/models/{model}". Literal segments win
/// over parameters; an unknown path answers 404 JSON, a known path with another method 405 JSON
/// with an Allow header. HEAD falls back to GET (body dropped).
public final class Router: Sendable {
    private struct State: Sendable {
        var trie = RouteTrie()
        var list: [(method: HTTPMethod, pattern: String)] = []
    }

    private let state = Mutex(State())
    private let logger = Logger(component: "http")
    /// Bumped on every `add`; event loops cache a trie snapshot and refresh it when this changes.
    let generation = Atomic<Int>(0)

    public init() {}

    /// Registers `handler` for `method` and `pattern`. Registering the same method and pattern twice,
    /// or a malformed pattern, is a programming error (precondition).
    public func add(
        _ method: HTTPMethod, _ pattern: String, options: RouteOptions = RouteOptions(),
        _ handler: @escaping HTTPHandler
    ) {
        let names = Router.parameterNames(pattern)
        insert(Route(method: method, pattern: pattern, parameterNames: names, options: options, handler: handler))
    }

    /// Parameter names of a pattern; a malformed pattern is a programming error.
    static func parameterNames(_ pattern: String) -> [String] {
        precondition(pattern.first == "/", "route pattern must start with '/': \(pattern)")
        var names: [String] = []
        for segment in pattern.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        where segment.contains("{") || segment.contains("}") {
            precondition(
                segment.first == "{" && segment.last == "}" && segment.count > 2,
                "a parameter must be a whole segment: \(pattern)")
            names.append(String(segment.dropFirst().dropLast()))
        }
        return names
    }

    func insert(_ route: Route) {
        let segments = route.pattern.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        let method = route.method
        let pattern = route.pattern
        state.withLock { s in
            s.trie.insert(route, segments: segments)
            s.list.append((method, pattern))
            generation.add(1, ordering: .releasing)
        }
    }

    /// Every registered (method, pattern), in registration order (for OpenAPI coverage tests).
    public var routes: [(method: HTTPMethod, pattern: String)] {
        state.withLock { $0.list }
    }

    /// Runs the full pipeline (match, 404/405, error mapping, request id) without sockets — for unit tests.
    /// A streaming route gets `request.body` as its `bodyStream` when no stream was given.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        var request = request
        if request.requestID.isEmpty { request.requestID = RequestID.from(request.headers) }
        let isHead = request.method == .HEAD
        var response: HTTPResponse
        switch match(request.method, request.path[...]) {
        case .found(let route, let values):
            if route.options.streamingBody, request.bodyStream == nil {
                request.bodyStream = HTTPBodyStream(bytes: request.body)
                request.body = []
            }
            if !route.options.streamingBody, request.body.count > route.options.maxBodyBytes {
                response = Router.errorResponse(
                    413, "request body exceeds \(route.options.maxBodyBytes) bytes", request.requestID)
            } else {
                response = run(route, values, request)
            }
        case .notFound:
            response = Router.notFound(request.requestID)
        case .methodNotAllowed(let allow):
            response = Router.methodNotAllowed(allow, request.requestID)
        }
        if isHead { response.body = .bytes([]) }
        return response
    }

    /// Snapshot lookup used by the server before it reads a body.
    func match(_ method: HTTPMethod, _ path: Substring) -> RouteTrie.Match {
        snapshot().trie.match(method: method, path: path)
    }

    /// The current trie and its generation.
    func snapshot() -> (trie: RouteTrie, generation: Int) {
        state.withLock { ($0.trie, generation.load(ordering: .acquiring)) }
    }

    /// Calls the handler with path parameters filled in and maps thrown errors to responses.
    func run(_ route: Route, _ values: [Substring], _ request: HTTPRequest) -> HTTPResponse {
        let request = Router.withParameters(route, values, request)
        var response: HTTPResponse
        do {
            response = try route.handler(request)
        } catch {
            response = errorResponse(error, route: route, request: request)
        }
        response.headers.set("X-Request-Id", request.requestID)
        return response
    }

    /// `request` with the route's path parameters filled in (percent-decoded).
    /// Consumed, so a request handed over at its last use is filled in place, not copied field by field.
    static func withParameters(_ route: Route, _ values: [Substring], _ request: consuming HTTPRequest) -> HTTPRequest {
        if !route.parameterNames.isEmpty {
            request.pathParameters = PathParameters(
                names: route.parameterNames, values: values.map { PercentCoding.decode($0, plusAsSpace: false) })
        }
        return consume request
    }

    /// A thrown handler error as the answer: `HTTPError` as given, body errors mapped, else 500 + a log line.
    func errorResponse(_ error: any Error, route: Route, request: HTTPRequest) -> HTTPResponse {
        var response: HTTPResponse
        switch error {
        case let error as HTTPError:
            response = HTTPResponse.error(error.status, error.message, fields: error.fields)
            for (name, value) in error.headers { response.headers.add(name, value) }
        case let error as HTTPBodyError:
            response = Router.bodyErrorResponse(error)
        default:
            logger.error(
                "handler failed",
                [
                    "method": .string(request.method.description), "path": .string(route.pattern),
                    "request_id": .string(request.requestID), "error": .string(String(describing: error)),
                ])
            response = HTTPResponse.error(500, "internal error", fields: ["request_id": request.requestID])
        }
        return response
    }

    static func bodyErrorResponse(_ error: HTTPBodyError) -> HTTPResponse {
        switch error {
        case .tooLarge(let limit): HTTPResponse.error(413, "request body exceeds \(limit) bytes")
        case .timedOut: HTTPResponse.error(408, "request body timed out")
        case .malformed(let why): HTTPResponse.error(400, "malformed request body: \(why)")
        case .disconnected: HTTPResponse.error(400, "client disconnected")
        }
    }

    static func errorResponse(_ status: Int, _ message: String, _ requestID: String) -> HTTPResponse {
        var response = HTTPResponse.error(status, message)
        response.headers.set("X-Request-Id", requestID)
        return response
    }

    static func notFound(_ requestID: String) -> HTTPResponse {
        errorResponse(404, "not found", requestID)
    }

    static func methodNotAllowed(_ allow: String, _ requestID: String) -> HTTPResponse {
        var response = errorResponse(405, "method not allowed", requestID)
        response.headers.set("Allow", allow)
        return response
    }
}
