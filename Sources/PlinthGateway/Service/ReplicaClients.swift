import PlinthHTTP
import Synchronization

/// Keep-alive HTTP clients towards replicas, one per distinct request timeout (the client's read
/// timeout is per client), each pooling connections per replica endpoint.
final class ReplicaClients: Sendable {
    private let clients = Mutex([Duration: HTTPClient]())
    private let connectTimeout: Duration
    private let maxIdle: Int

    init(connectTimeout: Duration, maxIdleConnectionsPerEndpoint: Int) {
        self.connectTimeout = connectTimeout
        self.maxIdle = maxIdleConnectionsPerEndpoint
    }

    /// The client whose read timeout is `timeout`.
    func client(timeout: Duration) -> HTTPClient {
        clients.withLock { table in
            if let client = table[timeout] { return client }
            var configuration = HTTPClientConfiguration()
            configuration.connectTimeout = connectTimeout
            configuration.readTimeout = timeout
            configuration.maxIdleConnectionsPerEndpoint = maxIdle
            let client = HTTPClient(configuration: configuration)
            table[timeout] = client
            return client
        }
    }
}

/// Builds the request sent to a runtime from the caller's parsed request: never the caller's raw
/// header bytes (a proxy that relays them invites request smuggling).
enum ForwardedRequest {
    /// Headers copied from the caller; everything else (cookies, credentials, hop-by-hop
    /// fields, Host, Transfer-Encoding) stays behind.
    static let passedHeaders = ["Content-Type", "Inference-Header-Content-Length", "Accept"]

    static func make(from request: HTTPRequest, modelName: String, body: [UInt8]) -> HTTPClientRequest {
        var headers = HTTPHeaders()
        for name in passedHeaders {
            if let value = request.headers[name] { headers.add(name, value) }
        }
        headers.add("X-Request-Id", request.requestID)
        return HTTPClientRequest(method: .POST, path: inferPath(modelName), headers: headers, body: body)
    }

    /// `/v2/models/{modelName}/infer` with the name percent-encoded.
    static func inferPath(_ modelName: String) -> String {
        "/v2/models/" + percentEncode(modelName) + "/infer"
    }

    static func metadataPath(_ modelName: String) -> String {
        "/v2/models/" + percentEncode(modelName)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func percentEncode(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            let unreserved =
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 0xF)]))
            }
        }
        return out
    }
}
