/// Throw from a handler to answer with a JSON error body `{"error": message, ...fields}`.
/// Any other error thrown by a handler becomes 500 `{"error":"internal error","request_id":...}`.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var headers: HTTPHeaders
    public var fields: [String: String]

    public init(_ status: Int, _ message: String, headers: HTTPHeaders = [:], fields: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
        self.fields = fields
    }

    public var description: String { "HTTP \(status): \(message)" }
}
