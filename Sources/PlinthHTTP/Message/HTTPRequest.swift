import Foundation

/// Values of a matched route's `{name}` segments. Two parallel arrays (the names are the route's
/// own): a route has a handful, and a dictionary cost an allocation and hashing per request.
public struct PathParameters: Sendable, ExpressibleByDictionaryLiteral {
    private var names: [String]
    private var values: [String]

    init(names: [String], values: [String]) {
        self.names = names
        self.values = values
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        names = elements.map(\.0)
        values = elements.map(\.1)
    }

    public subscript(_ name: String) -> String? {
        for i in names.indices where names[i] == name { return values[i] }
        return nil
    }
}

/// A parsed HTTP request as a handler sees it.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// Raw path without the query, e.g. "/v1/tenants/acme".
    public var path: String
    /// Raw query without '?', "" when none.
    public var query: String
    public var headers: HTTPHeaders
    /// Buffered body; empty for streaming routes.
    public var body: [UInt8]
    /// Non-nil only for routes registered with `streamingBody`.
    public var bodyStream: HTTPBodyStream?
    /// Percent-decoded values of `{name}` segments of the matched route.
    public var pathParameters: PathParameters
    /// X-Request-Id passed through (if sane) or generated.
    public var requestID: String
    /// "1.2.3.4:5678", "[::1]:5678" or "unix".
    public var remoteAddress: String
    /// The event loop the request arrived on; nil through `Router.handle` (no sockets).
    public var eventLoop: HTTPEventLoop?

    public init(method: HTTPMethod, path: String, query: String = "", headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.bodyStream = nil
        self.pathParameters = [:]
        self.requestID = ""
        self.remoteAddress = "local"
        self.eventLoop = nil
    }

    /// The first value of query parameter `name`, percent-decoded with '+' as space.
    public func queryValue(_ name: String) -> String? {
        queryValues(name).first
    }

    /// Every value of query parameter `name`, in order.
    public func queryValues(_ name: String) -> [String] {
        guard !query.isEmpty else { return [] }
        var out: [String] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = PercentCoding.decode(parts[0], plusAsSpace: true)
            guard key == name else { continue }
            out.append(parts.count > 1 ? PercentCoding.decode(parts[1], plusAsSpace: true) : "")
        }
        return out
    }

    /// Decodes the buffered body as JSON (ISO-8601 dates). Throws `HTTPError` 400 naming the problem.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(type, from: Data(body))
        } catch let error as DecodingError {
            throw HTTPError(400, HTTPRequest.describe(error))
        } catch {
            throw HTTPError(400, "invalid JSON body")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))': expected \(type)"
        case .valueNotFound(let type, let context):
            return "field '\(path(context.codingPath))': expected \(type), found null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                if context.underlyingError != nil || context.debugDescription.contains("JSON") {
                    return "body is not valid JSON"
                }
                return "invalid body: \(context.debugDescription)"
            }
            return "field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "invalid JSON body"
        }
    }
}
