import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// Non-blocking HTTP/1.1 client that lives on one event loop: keep-alive sockets per endpoint
/// (Unix or TCP) registered on the loop's own epoll, a write-then-read state machine with
/// incremental response parsing, and completions that run on the loop's thread. This is how an
/// async handler forwards a request without a thread hop (nginx-style).
///
/// `@unchecked Sendable` only so it can sit in `HTTPEventLoop`: every member is used on the loop's
/// own thread (`HTTPEventLoop.upstream` checks that), never concurrently.
public final class UpstreamClient: @unchecked Sendable {
    public typealias Completion = (Result<HTTPClientResponse, HTTPClientError>) -> Void

    /// Most idle sockets kept per endpoint (per loop).
    public var maxIdlePerEndpoint = 64
    /// Longest wait for a TCP connect (bounded by the request's own timeout too).
    public var connectTimeout: Duration = .seconds(5)

    private let epfd: Int32
    private let tag: UInt64
    private var connections: [Int32: UpstreamConnection] = [:]
    private var idle: [HTTPEndpoint: [UpstreamConnection]] = [:]
    private var addresses: [HTTPEndpoint: (family: Int32, storage: sockaddr_storage, length: socklen_t)] = [:]
    /// Requests waiting for a socket because the endpoint's accept backlog was full (a Unix
    /// listener answers EAGAIN): served as soon as one of its sockets is free, or retried on the
    /// timer tick. A busy server is not a dead one; refusing would eject a live replica.
    private var waiting: [HTTPEndpoint: [Waiter]] = [:]

    private struct Waiter {
        var bytes: [UInt8]
        var method: HTTPMethod
        var deadline: UInt64
        var replay: Bool
        var completion: Completion
    }

    private enum ConnectFailure: Error {
        case failed(HTTPClientError)
        case backlogFull
    }

    init(epfd: Int32, tag: UInt64) {
        self.epfd = epfd
        self.tag = tag
    }

    /// Sends `request` (bytes bodies only) and calls `completion` once on the loop's thread: with
    /// the buffered response, or `.connectFailed` (nothing was sent: safe to retry elsewhere),
    /// `.timedOut` (no complete answer within `timeout`), `.connectionClosed` (the peer closed or
    /// reset after the request went out) or `.malformedResponse`. The completion may run before
    /// `send` returns (an immediate connect failure). A pooled socket that fails before any answer
    /// byte is replaced and the request replayed once.
    public func send(
        _ request: HTTPClientRequest, to endpoint: HTTPEndpoint, timeout: Duration,
        completion: @escaping Completion
    ) {
        guard case .bytes(let body) = request.body else {
            completion(.failure(.malformedResponse("the upstream client sends buffered bodies only")))
            return
        }
        let bytes: [UInt8]
        do { bytes = try UpstreamClient.encode(request, body: body, endpoint: endpoint) } catch {
            completion(.failure(error))
            return
        }
        let now = Sys.monotonicNanos()
        start(
            bytes, method: request.method, endpoint: endpoint, deadline: now + Sys.nanoseconds(timeout),
            replay: true, completion: completion)
    }

    /// Idle pooled sockets for `endpoint` (tests, metrics).
    public func idleConnectionCount(_ endpoint: HTTPEndpoint) -> Int { idle[endpoint]?.count ?? 0 }

    /// Sockets open (idle and busy).
    public var openConnectionCount: Int { connections.count }

    private func start(
        _ bytes: [UInt8], method: HTTPMethod, endpoint: HTTPEndpoint, deadline: UInt64, replay: Bool,
        completion: @escaping Completion
    ) {
        let conn: UpstreamConnection
        if let pooled = idle[endpoint]?.popLast() {
            conn = pooled
        } else {
            switch connect(endpoint, deadline: deadline) {
            case .success(let c): conn = c
            case .failure(.failed(let error)):
                completion(.failure(error))
                return
            case .failure(.backlogFull):
                waiting[endpoint, default: []].append(
                    Waiter(bytes: bytes, method: method, deadline: deadline, replay: replay, completion: completion))
                return
            }
        }
        conn.output = bytes
        conn.method = method
        conn.deadline = deadline
        conn.mayReplay = replay && conn.reused
        conn.completion = completion
        if conn.state == .idle { conn.state = .writing }
        if conn.state == .writing { write(conn) }
    }

    private func connect(_ endpoint: HTTPEndpoint, deadline: UInt64) -> Result<UpstreamConnection, ConnectFailure> {
        let target: (family: Int32, storage: sockaddr_storage, length: socklen_t)
        if let known = addresses[endpoint] {
            target = known
        } else {
            switch endpoint {
            case .tcp(let host, let port):
                guard let first = SocketAddress.resolve(host: host, port: port, passive: false).first else {
                    return .failure(.failed(.connectFailed("cannot resolve \(host)")))
                }
                target = first
            case .unix(let path):
                guard let t = SocketAddress.unix(path) else {
                    return .failure(.failed(.connectFailed("invalid socket path")))
                }
                target = (AF_UNIX, t.storage, t.length)
            }
            addresses[endpoint] = target
        }
        let fd = socket(target.family, Int32(SOCK_STREAM.rawValue) | plinth_sock_nonblock | plinth_sock_cloexec, 0)
        if fd < 0 { return .failure(.failed(.connectFailed("\(endpoint): \(String(cString: strerror(errno)))"))) }
        var storage = target.storage
        let r = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, target.length) }
        }
        // A Unix socket answers at once; EAGAIN there means the listener's backlog is full.
        if r != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            if code == EAGAIN { return .failure(.backlogFull) }
            return .failure(.failed(.connectFailed("\(endpoint): \(String(cString: strerror(code)))")))
        }
        if target.family != AF_UNIX { Sys.setOption(fd, Int32(IPPROTO_TCP), plinth_tcp_nodelay, 1) }
        // EPOLLOUT only while a TCP connect is in progress (see `Sys.watch`).
        if !Sys.watch(epfd: epfd, EPOLL_CTL_ADD, fd: fd, tag: tag | UInt64(UInt32(bitPattern: fd)), writable: r != 0) {
            close(fd)
            return .failure(.failed(.connectFailed("epoll_ctl failed")))
        }
        let conn = UpstreamConnection(fd: fd, endpoint: endpoint)
        conn.state = r == 0 ? .writing : .connecting
        conn.watchingWritable = r != 0
        conn.connectDeadline = min(deadline, Sys.monotonicNanos() + Sys.nanoseconds(connectTimeout))
        connections[fd] = conn
        return .success(conn)
    }

    /// Readiness on one of this client's sockets.
    func onEvent(_ fd: Int32, _ events: UInt32, now: UInt64) {
        guard let conn = connections[fd] else { return }
        let trouble = events & (plinth_epollrdhup | plinth_epollhup | plinth_epollerr) != 0
        switch conn.state {
        case .idle:
            // The server closed a pooled socket (or sent stray bytes): drop it.
            if trouble || events & plinth_epollin != 0 { discard(conn) }
        case .connecting:
            var err: Int32 = 0
            var len = socklen_t(4)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                fail(conn, .connectFailed("\(conn.endpoint): \(String(cString: strerror(err)))"))
            } else if events & plinth_epollout != 0 {
                conn.state = .writing
                write(conn)
                readAfterDeferredWrite(conn)
            } else if trouble {
                fail(conn, .connectFailed("\(conn.endpoint): connection refused"))
            }
        case .writing:
            write(conn)
            readAfterDeferredWrite(conn)
        case .reading:
            read(conn)
        }
    }

    /// A write that needed EPOLLOUT just finished: an answer or hangup that came while it was
    /// still writing (an early error reply to a large upload) has spent its edge, so read now.
    /// (Only this rare path pays the recv that may say EAGAIN.)
    private func readAfterDeferredWrite(_ conn: UpstreamConnection) {
        if conn.state == .reading { read(conn) }
    }

    private func write(_ conn: UpstreamConnection) {
        while conn.sent < conn.output.count {
            let n = conn.output.withUnsafeBytes { raw in
                conn.transport.send(raw.baseAddress! + conn.sent, raw.count - conn.sent)
            }
            if n > 0 {
                conn.sent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                watchWritable(conn, true)  // EPOLLOUT brings us back
                return
            } else {
                failBeforeAnswer(conn)
                return
            }
        }
        // No read now: the answer cannot be there yet, so it would only say EAGAIN (one wasted
        // recv per request); the socket's edge-triggered EPOLLIN reports the answer.
        conn.state = .reading
        watchWritable(conn, false)
    }

    private func watchWritable(_ conn: UpstreamConnection, _ on: Bool) {
        guard conn.watchingWritable != on else { return }
        conn.watchingWritable = on
        _ = Sys.watch(epfd: epfd, EPOLL_CTL_MOD, fd: conn.fd, tag: tag | UInt64(UInt32(bitPattern: conn.fd)), writable: on)
    }

    private func read(_ conn: UpstreamConnection) {
        while true {
            conn.input.reserveTail(64 * 1024)
            let r = conn.transport.receive(conn.input.writableTail, 64 * 1024)
            if r > 0 {
                conn.input.didWrite(r)
                conn.gotResponseBytes = true
                switch conn.parse(eof: false) {
                case .needMore: continue
                case .done:
                    succeed(conn)
                    return
                case .failed(let error):
                    fail(conn, error)
                    return
                }
            }
            if r < 0 && errno == EINTR { continue }
            if r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            // End of stream or reset.
            if !conn.gotResponseBytes {
                failBeforeAnswer(conn)
                return
            }
            if r == 0, case .done = conn.parse(eof: true) {
                succeed(conn)
            } else {
                fail(conn, .connectionClosed)
            }
            return
        }
    }

    /// The socket failed before any answer byte: replay once on a fresh socket if it was a pooled one.
    private func failBeforeAnswer(_ conn: UpstreamConnection) {
        guard conn.mayReplay, let completion = conn.completion else {
            fail(conn, .connectionClosed)
            return
        }
        let (bytes, method, endpoint, deadline) = (conn.output, conn.method, conn.endpoint, conn.deadline)
        conn.completion = nil
        discard(conn)
        start(bytes, method: method, endpoint: endpoint, deadline: deadline, replay: false, completion: completion)
    }

    private func succeed(_ conn: UpstreamConnection) {
        let response = HTTPClientResponse(status: conn.status, headers: conn.headers, body: conn.responseBody)
        let completion = conn.completion
        var pooled = false
        if conn.keepAlive && conn.input.isEmpty {
            // One lookup: the pool's count and the append share it.
            idle[conn.endpoint, default: []].appendIfRoom(conn, limit: maxIdlePerEndpoint, added: &pooled)
        }
        if pooled {
            conn.reset()
            conn.reused = true
            conn.state = .idle
        } else {
            discard(conn)
        }
        completion?(.success(response))
        if !waiting.isEmpty { serveWaiters(conn.endpoint) }
    }

    /// Hands free sockets of `endpoint` to requests that found its backlog full.
    private func serveWaiters(_ endpoint: HTTPEndpoint) {
        while let list = waiting[endpoint], !list.isEmpty, let free = idle[endpoint], !free.isEmpty {
            var rest = list
            let next = rest.removeFirst()
            waiting[endpoint] = rest.isEmpty ? nil : rest
            start(
                next.bytes, method: next.method, endpoint: endpoint, deadline: next.deadline, replay: next.replay,
                completion: next.completion)
        }
    }

    private func fail(_ conn: UpstreamConnection, _ error: HTTPClientError) {
        let completion = conn.completion
        conn.completion = nil
        discard(conn)
        completion?(.failure(error))
    }

    /// Closes a socket and forgets it (pool included).
    private func discard(_ conn: UpstreamConnection) {
        guard connections.removeValue(forKey: conn.fd) != nil else { return }
        if conn.state == .idle, var list = idle[conn.endpoint], let i = list.firstIndex(where: { $0 === conn }) {
            list.remove(at: i)
            idle[conn.endpoint] = list
        }
        conn.input.release()
        conn.transport.close()
    }

    /// Fails requests past their deadline (called from the loop's timer tick).
    func sweep(now: UInt64) {
        if !waiting.isEmpty {
            let all = waiting
            waiting.removeAll()
            for (endpoint, list) in all {
                for w in list {
                    if now >= w.deadline {
                        w.completion(.failure(.timedOut))
                    } else {
                        // Connects again (or waits again if the backlog is still full).
                        start(
                            w.bytes, method: w.method, endpoint: endpoint, deadline: w.deadline, replay: w.replay,
                            completion: w.completion)
                    }
                }
            }
        }
        for conn in Array(connections.values) where conn.state != .idle {
            if conn.state == .connecting && now >= conn.connectDeadline {
                fail(conn, .timedOut)
            } else if now >= conn.deadline {
                fail(conn, .timedOut)
            }
        }
    }

    /// Closes everything; requests in flight fail with `.connectionClosed` (the loop is exiting).
    func closeAll() {
        for conn in Array(connections.values) { fail(conn, .connectionClosed) }
        idle.removeAll()
        let all = waiting
        waiting.removeAll()
        for list in all.values { for w in list { w.completion(.failure(.connectionClosed)) } }
    }

    /// Request line, Host (unless given), the caller's headers and Content-Length, then the body.
    static func encode(_ request: HTTPClientRequest, body: [UInt8], endpoint: HTTPEndpoint) throws(HTTPClientError)
        -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        // Appended piecewise: string interpolation built a String per line first.
        out += request.method.description.utf8
        out.append(0x20)
        if request.path.isEmpty { out.append(UInt8(ascii: "/")) } else { out += request.path.utf8 }
        out += " HTTP/1.1\r\n".utf8
        if !request.headers.contains("Host") {
            switch endpoint {
            case .tcp(let host, let port): out += "Host: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\n".utf8
            case .unix: out += "Host: localhost\r\n".utf8
            }
        }
        for (name, value) in request.headers {
            if HTTPHeaders.equalsIgnoringCase(name, "Content-Length")
                || HTTPHeaders.equalsIgnoringCase(name, "Transfer-Encoding")
            {
                continue
            }
            let fieldStart = out.count
            out += name.utf8
            out.append(0x3A)
            out.append(0x20)
            out += value.utf8
            // Checked on the copied bytes: a String's UTF-8 iterator was slower than the copy.
            let injected = out.withUnsafeBufferPointer { all in
                UnsafeBufferPointer(rebasing: all[fieldStart...]).contains { $0 == 13 || $0 == 10 }
            }
            if injected { throw .malformedResponse("request header contains CR or LF: \(name)") }
            out.append(13)
            out.append(10)
        }
        if !body.isEmpty || request.method == .POST || request.method == .PUT || request.method == .PATCH {
            out += "Content-Length: ".utf8
            out += String(body.count).utf8
            out.append(13)
            out.append(10)
        }
        out.append(13)
        out.append(10)
        out += body
        return out
    }
}

extension Array where Element == UpstreamConnection {
    fileprivate mutating func appendIfRoom(_ conn: UpstreamConnection, limit: Int, added: inout Bool) {
        added = count < limit
        if added { append(conn) }
    }
}
