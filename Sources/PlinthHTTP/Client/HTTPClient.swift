import Synchronization

/// Blocking HTTP/1.1 client for the platform's own hops, with a keep-alive pool per endpoint.
/// Thread-safe. A pooled connection the server has closed is detected before use and replaced; one
/// that fails while the request is being written (nothing delivered) is retried once on a fresh
/// connection when the body can be replayed. Once a request was sent it is never retried.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let idle = Mutex<[HTTPEndpoint: [ClientConnection]]>([:])

    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.configuration = configuration
    }

    /// Sends `request` and buffers the whole response.
    public func send(_ request: HTTPClientRequest, to endpoint: HTTPEndpoint) throws -> HTTPClientResponse {
        var status = 0
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        try send(
            request, to: endpoint,
            onHead: {
                status = $0
                headers = $1
            }, onChunk: { body += $0 })
        return HTTPClientResponse(status: status, headers: headers, body: body)
    }

    /// Streams the response body to `onChunk` instead of buffering it (artifact downloads).
    public func send(
        _ request: HTTPClientRequest, to endpoint: HTTPEndpoint,
        onHead: (Int, HTTPHeaders) throws -> Void, onChunk: ([UInt8]) throws -> Void
    ) throws {
        var attempt = 0
        while true {
            attempt += 1
            let (conn, reused) = try checkout(endpoint)
            do {
                let keep = try exchange(conn, request, endpoint, onHead: onHead, onChunk: onChunk)
                if keep { checkin(conn, endpoint) }
                return
            } catch let failure as Stale {
                // The pooled socket died before any response byte arrived: safe to try once more.
                guard reused, attempt == 1, failure.replayable else { throw HTTPClientError.connectionClosed }
            }
        }
    }

    /// Closes every idle pooled connection.
    public func closeIdleConnections() {
        idle.withLock { $0.removeAll() }
    }

    /// Idle pooled connections for `endpoint` (for tests and metrics).
    public func idleConnectionCount(_ endpoint: HTTPEndpoint) -> Int {
        idle.withLock { $0[endpoint]?.count ?? 0 }
    }

    private struct Stale: Error {
        var replayable: Bool
    }

    private func checkout(_ endpoint: HTTPEndpoint) throws -> (ClientConnection, Bool) {
        while let conn = idle.withLock({ $0[endpoint]?.popLast() }) {
            if conn.looksReusable { return (conn, true) }
        }
        return (try ClientConnection.connect(endpoint, config: configuration), false)
    }

    private func checkin(_ conn: ClientConnection, _ endpoint: HTTPEndpoint) {
        idle.withLock { pool in
            var list = pool[endpoint] ?? []
            if list.count < configuration.maxIdleConnectionsPerEndpoint { list.append(conn) }
            pool[endpoint] = list
        }
    }

    /// One request/response. Returns whether the connection can be pooled again.
    private func exchange(
        _ conn: ClientConnection, _ request: HTTPClientRequest, _ endpoint: HTTPEndpoint,
        onHead: (Int, HTTPHeaders) throws -> Void, onChunk: ([UInt8]) throws -> Void
    ) throws -> Bool {
        var head: [UInt8] = []
        head.reserveCapacity(256)
        head += Array("\(request.method) \(request.path.isEmpty ? "/" : request.path) HTTP/1.1\r\n".utf8)
        if !request.headers.contains("Host") {
            switch endpoint {
            case .tcp(let host, let port):
                head += Array("Host: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\n".utf8)
            case .unix: head += Array("Host: localhost\r\n".utf8)
            }
        }
        for (name, value) in request.headers {
            if HTTPHeaders.equalsIgnoringCase(name, "Content-Length")
                || HTTPHeaders.equalsIgnoringCase(name, "Transfer-Encoding")
            {
                continue
            }
            guard !name.utf8.contains(where: { $0 == 13 || $0 == 10 }),
                !value.utf8.contains(where: { $0 == 13 || $0 == 10 })
            else {
                throw HTTPClientError.malformedResponse("request header contains CR or LF: \(name)")
            }
            head += Array("\(name): \(value)\r\n".utf8)
        }
        var replayable = true
        var streamStarted = false
        do {
            switch request.body {
            case .bytes(let body):
                if !body.isEmpty || [.POST, .PUT, .PATCH].contains(request.method) {
                    head += Array("Content-Length: \(body.count)\r\n".utf8)
                }
                head += [13, 10]
                try conn.write(head + body)
            case .stream(let length, let produce):
                replayable = false
                head += Array((length.map { "Content-Length: \($0)\r\n" } ?? "Transfer-Encoding: chunked\r\n").utf8)
                head += [13, 10]
                try conn.write(head)
                streamStarted = true
                try produce { bytes in
                    guard !bytes.isEmpty else { return }
                    if length == nil {
                        try conn.write(Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10])
                    } else {
                        try conn.write(bytes)
                    }
                }
                if length == nil { try conn.write(Array("0\r\n\r\n".utf8)) }
            }
        } catch HTTPClientError.connectionClosed {
            if !streamStarted { throw Stale(replayable: replayable) }
            throw HTTPClientError.connectionClosed
        }
        return try readResponse(conn, request.method, onHead: onHead, onChunk: onChunk)
    }

    private func readResponse(
        _ conn: ClientConnection, _ method: HTTPMethod,
        onHead: (Int, HTTPHeaders) throws -> Void, onChunk: ([UInt8]) throws -> Void
    ) throws -> Bool {
        let scanner = RequestHeadParser(maxHeaderBytes: ResponseHeadParser.maxHeadBytes, maxHeaderCount: 1000)
        var resume = 0
        var head: ResponseHeadParser.Head
        while true {
            let scan: RequestHeadParser.Scan
            do { scan = try scanner.scan(conn.buffer.readable, from: resume) } catch {
                throw HTTPClientError.malformedResponse("response head too large")
            }
            switch scan {
            case .incomplete(let r):
                resume = r
                // The request went out: even if the server closes now, it may have acted on it, so
                // no retry from here on.
                if !(try conn.fill()) { throw HTTPClientError.connectionClosed }
                continue
            case .complete(let start, let end):
                head = try ResponseHeadParser.parse(conn.buffer.readable, start: start, end: end, requestMethod: method)
                conn.buffer.consume(end)
                resume = 0
            }
            if head.status >= 100 && head.status < 200 { continue }  // 100 Continue and friends
            break
        }
        try onHead(head.status, head.headers)
        switch head.framing {
        case .none where !head.untilClose:
            break
        case .contentLength(var remaining):
            while remaining > 0 {
                if conn.buffer.isEmpty, !(try conn.fill()) { throw HTTPClientError.connectionClosed }
                let take = min(remaining, conn.buffer.count)
                try onChunk(Array(UnsafeRawBufferPointer(rebasing: conn.buffer.readable[0..<take])))
                conn.buffer.consume(take)
                remaining -= take
            }
        case .chunked:
            var decoder = ChunkedDecoder()
            while !decoder.isDone {
                if conn.buffer.isEmpty, !(try conn.fill()) { throw HTTPClientError.connectionClosed }
                var out: [UInt8] = []
                let used: Int
                do {
                    used = try decoder.decode(conn.buffer.readable) { out.append(contentsOf: $0) }
                } catch {
                    throw HTTPClientError.malformedResponse("chunked framing")
                }
                conn.buffer.consume(used)
                if !out.isEmpty { try onChunk(out) }
            }
        case .none:
            while true {
                if !conn.buffer.isEmpty {
                    try onChunk(conn.buffer.copyOut())
                    conn.buffer.consume(conn.buffer.count)
                }
                if !(try conn.fill()) { break }
            }
        }
        return head.keepAlive && conn.buffer.isEmpty
    }
}
