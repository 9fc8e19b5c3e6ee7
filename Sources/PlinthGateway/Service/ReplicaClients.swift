import PlinthHTTP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keep-alive HTTP clients towards replicas, one set per distinct request timeout (the client's
/// read timeout is per client), each pooling connections per replica endpoint.
///
/// Each set holds a few clients and a handler thread always uses the same one (by thread
/// identity): one client's pool lock, taken twice per request by every handler thread, was the
/// gateway's most contended lock under load.
final class ReplicaClients: Sendable {
    private let clients = Mutex([Duration: [HTTPClient]]())
    private let connectTimeout: Duration
    private let maxIdle: Int
    private let shards: Int

    init(connectTimeout: Duration, maxIdleConnectionsPerEndpoint: Int, shards: Int = 4) {
        self.connectTimeout = connectTimeout
        self.shards = max(1, shards)
        // The idle budget is per endpoint across all shards.
        self.maxIdle = max(1, maxIdleConnectionsPerEndpoint / self.shards)
    }

    /// The calling thread's client whose read timeout is `timeout`.
    func client(timeout: Duration) -> HTTPClient {
        ReplicaClients.pick(clientSet(timeout: timeout))
    }

    /// The calling thread's client of a set (deployments keep their set: no lock per request).
    static func pick(_ set: [HTTPClient]) -> HTTPClient {
        set[threadShard(set.count)]
    }

    /// All clients whose read timeout is `timeout`.
    func clientSet(timeout: Duration) -> [HTTPClient] {
        clients.withLock { table in
            if let set = table[timeout] { return set }
            var configuration = HTTPClientConfiguration()
            configuration.connectTimeout = connectTimeout
            configuration.readTimeout = timeout
            configuration.maxIdleConnectionsPerEndpoint = maxIdle
            let set = (0..<shards).map { _ in HTTPClient(configuration: configuration) }
            table[timeout] = set
            return set
        }
    }

    /// A stable index in 0..<count for the calling thread.
    static func threadShard(_ count: Int) -> Int {
        var hash = UInt64(UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))))
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return Int(hash % UInt64(count))
    }
}

/// Builds the request sent to a runtime from the caller's parsed request: never the caller's raw
/// header bytes (a proxy that relays them invites request smuggling).
enum ForwardedRequest {
    /// Headers copied from the caller; everything else (cookies, credentials, hop-by-hop
    /// fields, Host, Transfer-Encoding) stays behind.
    static let passedHeaders = ["Content-Type", "Inference-Header-Content-Length", "Accept"]

    static func make(from request: HTTPRequest, version: VersionRoute, body: [UInt8]) -> HTTPClientRequest {
        var headers = HTTPHeaders()
        headers.reserveCapacity(passedHeaders.count + 3)  // + X-Request-Id and a forwarder's two
        for name in passedHeaders {
            if let value = request.headers[name] { headers.add(name, value) }
        }
        headers.add("X-Request-Id", request.requestID)
        return HTTPClientRequest(method: .POST, path: version.inferPath, headers: headers, body: body)
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
        if s.utf8.allSatisfy(isUnreserved) { return s }  // the usual name: nothing to encode
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if isUnreserved(b) {
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

    /// RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~".
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }
}
