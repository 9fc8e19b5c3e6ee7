import Foundation
import PlinthCore

/// What a response carries after its head.
public enum HTTPResponseBody: Sendable {
    case bytes([UInt8])
    /// Written with chunked encoding (or Content-Length when `length` is given); the writer blocks for backpressure.
    case stream(length: Int?, @Sendable (HTTPBodyWriter) throws -> Void)
}

/// A response as a handler returns it. The server adds Date, Content-Length/Transfer-Encoding,
/// Connection and X-Request-Id.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: HTTPResponseBody
    /// Told when the response's last byte is handed to the kernel or the write fails (nil: nobody
    /// asks, and the server does no extra work).
    public var delivery: HTTPDeliveryObserver?

    public init(status: Int = 200, headers: HTTPHeaders = [:], body: HTTPResponseBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// JSON with sorted keys and ISO-8601 dates. An unencodable value answers 500.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return jsonBytes(Array(try encoder.encode(value)), status: status)
        } catch {
            return .error(500, "internal error: response encoding failed")
        }
    }

    /// Already-encoded JSON.
    public static func jsonBytes(_ bytes: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: .bytes(bytes))
    }

    public static func text(_ s: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8")
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(Array(s.utf8)))
    }

    /// `{"error": message, ...fields}` with keys sorted.
    public static func error(_ status: Int, _ message: String, fields: [String: String] = [:]) -> HTTPResponse {
        var all = fields
        all["error"] = message
        var text = "{"
        var first = true
        for key in all.keys.sorted() {
            if !first { text += "," }
            first = false
            JSONText.appendQuoted(key, to: &text)
            text += ":"
            JSONText.appendQuoted(all[key] ?? "", to: &text)
        }
        text += "}"
        return jsonBytes(Array(text.utf8), status: status)
    }
}
