/// How a request's body is framed on the wire.
enum BodyFraming: Sendable, Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// A parsed and validated request head.
struct RequestHead: Sendable {
    var method: HTTPMethod
    var path: String
    var query: String
    var headers: HTTPHeaders
    var framing: BodyFraming
    /// The client asked for (HTTP/1.1 default) or allowed a persistent connection.
    var keepAlive: Bool
    var expectContinue: Bool
    var isHTTP10: Bool
}

/// Why a head was refused; the connection is always closed after answering.
struct HeadError: Error, Sendable, Equatable {
    var status: Int
    var message: String

    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}
