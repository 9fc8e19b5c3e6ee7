import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// Non-blocking HTTP/1.1 client that lives on one event loop: keep-alive sockets per endpoint
/// (Unix or TCP) registered on the loop's own epoll, incremental response parsing, and
/// completions that run on the loop's thread. This is how an async handler forwards a request
/// without a thread hop (nginx-style).
///
/// A request goes out on a socket of its own by default, written at once. A *pipelined* request
/// (for servers that answer pipelined requests concurrently, like `plinth runtime`) joins the
/// endpoint's open socket behind others and is written when the loop's round of events ends,
/// with the round's other requests, or as soon as `pipelineBatch` are queued (at once when the
/// socket has nothing in flight): one send and one receive per batch instead of per request, on
/// both sides.
///
/// `@unchecked Sendable` only so it can sit in `HTTPEventLoop`: every member is used on the loop's
/// own thread (`HTTPEventLoop.upstream` checks that), never concurrently.
public final class UpstreamClient: @unchecked Sendable {
    public typealias Completion = (Result<HTTPClientResponse, HTTPClientError>) -> Void
    typealias Exchange = UpstreamConnection.Exchange

    /// Most idle one-at-a-time sockets kept per endpoint (per loop).
    public var maxIdlePerEndpoint = 64
    /// Most pipelined requests waiting on one socket; past it another socket is opened.
    public var maxPipelineDepth = 32
    /// Pipelined requests queued on a socket before it is written without waiting for the round's
    /// end: the replica starts on them while the loop goes on. (Measured on the 2-core bench box:
    /// written only at the round's end the replica sat idle ~28 % of the time, 43k req/s; every
    /// 8 requests, 51–54k; each at once, 51k with more CPU per request.)
    public var pipelineBatch = 8
    /// Longest wait for a TCP connect (bounded by the request's own timeout too).
    public var connectTimeout: Duration = .seconds(5)

    private let epfd: Int32
    private let tag: UInt64
    private var connections: [Int32: UpstreamConnection] = [:]
    /// One-at-a-time sockets with nothing in flight.
    private var idle: [HTTPEndpoint: [UpstreamConnection]] = [:]
    /// Pipelined sockets, busy or not; a request joins the first with room.
    private var pipes: [HTTPEndpoint: [UpstreamConnection]] = [:]
    private var addresses: [HTTPEndpoint: (family: Int32, storage: sockaddr_storage, length: socklen_t)] = [:]
    /// Requests waiting for a socket because the endpoint's accept backlog was full (a Unix
    /// listener answers EAGAIN): served as soon as one of its sockets is free, or retried on the
    /// timer tick. A busy server is not a dead one; refusing would eject a live replica.
    private var waiting: [HTTPEndpoint: [Waiter]] = [:]
    /// Pipelined sockets with requests queued this round, and the list being written.
    private var unflushed: [UpstreamConnection] = []
    private var flushing: [UpstreamConnection] = []

    private struct Waiter {
        var exchange: Exchange
        var pipelined: Bool
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
    /// byte is replaced and the request replayed once. `pipelined`: the endpoint answers
    /// pipelined requests (see the type's note); never set it for a server that may not.
    public func send(
        _ request: HTTPClientRequest, to endpoint: HTTPEndpoint, timeout: Duration, pipelined: Bool = false,
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
        let deadline = Sys.monotonicNanos() + Sys.nanoseconds(timeout)
        start(
            Exchange(
                bytes: bytes, method: request.method, deadline: deadline, mayReplay: false, replay: true,
                completion: completion),
            endpoint, pipelined: pipelined)
    }

    /// Sockets of `endpoint` with nothing in flight (tests, metrics).
    public func idleConnectionCount(_ endpoint: HTTPEndpoint) -> Int {
        (idle[endpoint]?.count ?? 0) + (pipes[endpoint]?.count { $0.inFlight == 0 } ?? 0)
    }

    /// Sockets open (idle and busy).
    public var openConnectionCount: Int { connections.count }

    /// Pipelined requests are queued and not written yet (the loop then calls `flush`).
    var hasUnflushed: Bool { !unflushed.isEmpty }

    /// Writes the requests queued on pipelined sockets this round.
    func flush() {
        while !unflushed.isEmpty {
            // Swapped: a failed write replays requests, which may queue again.
            swap(&unflushed, &flushing)
            for conn in flushing {
                conn.flushQueued = false
                if connections[conn.fd] === conn && !conn.connecting { write(conn) }
            }
            flushing.removeAll(keepingCapacity: true)
        }
    }

    private func start(_ exchange: consuming Exchange, _ endpoint: HTTPEndpoint, pipelined: Bool) {
        let conn: UpstreamConnection
        if pipelined, let open = pipes[endpoint]?.first(where: { $0.takes(maxPipelineDepth) }) {
            conn = open
        } else if !pipelined, let pooled = idle[endpoint]?.popLast() {
            conn = pooled
        } else {
            switch connect(endpoint, deadline: exchange.deadline, pipelined: pipelined) {
            case .success(let c): conn = c
            case .failure(.failed(let error)):
                exchange.completion?(.failure(error))
                return
            case .failure(.backlogFull):
                waiting[endpoint, default: []].append(Waiter(exchange: exchange, pipelined: pipelined))
                return
            }
        }
        exchange.mayReplay = exchange.replay && conn.reused
        conn.enqueue(exchange)
        if conn.connecting { return }  // written once connected
        if pipelined {
            conn.unflushed += 1
            // An idle socket is written at once (the replica may be idle too); behind requests
            // in flight, the batch waits for the round's end or `pipelineBatch`.
            if conn.unflushed >= pipelineBatch || conn.inFlight == 1 {
                write(conn)
                return
            }
            if !conn.flushQueued {
                conn.flushQueued = true
                unflushed.append(conn)
            }
        } else {
            write(conn)
        }
    }

    private func connect(_ endpoint: HTTPEndpoint, deadline: UInt64, pipelined: Bool) -> Result<
        UpstreamConnection, ConnectFailure
    > {
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
        let conn = UpstreamConnection(fd: fd, endpoint: endpoint, pipelined: pipelined)
        conn.connecting = r != 0
        conn.watchingWritable = r != 0
        conn.connectDeadline = min(deadline, Sys.monotonicNanos() + Sys.nanoseconds(connectTimeout))
        connections[fd] = conn
        if pipelined { pipes[endpoint, default: []].append(conn) }
        return .success(conn)
    }

    /// Readiness on one of this client's sockets.
    func onEvent(_ fd: Int32, _ events: UInt32, now: UInt64) {
        guard let conn = connections[fd] else { return }
        let trouble = events & (plinth_epollrdhup | plinth_epollhup | plinth_epollerr) != 0
        if conn.connecting {
            var err: Int32 = 0
            var len = socklen_t(4)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                failAll(conn, .connectFailed("\(conn.endpoint): \(String(cString: strerror(err)))"))
                return
            }
            if events & plinth_epollout == 0 {
                if trouble { failAll(conn, .connectFailed("\(conn.endpoint): connection refused")) }
                return
            }
            conn.connecting = false
        }
        if conn.sent < conn.output.count && events & plinth_epollout != 0 {
            write(conn)
            guard connections[fd] === conn else { return }
        }
        if conn.inFlight == 0 {
            // The server closed an idle socket (or sent stray bytes): drop it.
            if trouble || events & plinth_epollin != 0 { discard(conn) }
            return
        }
        if trouble || events & plinth_epollin != 0 { read(conn, toEnd: trouble) }
    }

    private func write(_ conn: UpstreamConnection) {
        while conn.sent < conn.output.count {
            let n = conn.output.withUnsafeBytes { raw in
                conn.transport.send(raw.baseAddress! + conn.sent, raw.count - conn.sent)
            }
            if n > 0 {
                conn.sent += n
                conn.writtenBytes += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                watchWritable(conn, true)  // EPOLLOUT brings us back
                return
            } else {
                died(conn, .connectionClosed)
                return
            }
        }
        // Not kept: the buffer may be shared with a queued request kept for a replay.
        conn.output = []
        conn.unflushed = 0
        conn.sent = 0
        // No read now: the answer cannot be there yet, so it would only say EAGAIN (one wasted
        // recv per request); the socket's edge-triggered EPOLLIN reports the answer.
        watchWritable(conn, false)
    }

    private func watchWritable(_ conn: UpstreamConnection, _ on: Bool) {
        guard conn.watchingWritable != on else { return }
        conn.watchingWritable = on
        _ = Sys.watch(epfd: epfd, EPOLL_CTL_MOD, fd: conn.fd, tag: tag | UInt64(UInt32(bitPattern: conn.fd)), writable: on)
    }

    /// Reads answers. A short read drained the socket (the next bytes bring a new edge) unless
    /// the peer hung up (`toEnd`): then it reads to the end.
    private func read(_ conn: UpstreamConnection, toEnd: Bool) {
        while true {
            conn.input.reserveTail(64 * 1024)
            let r = conn.transport.receive(conn.input.writableTail, 64 * 1024)
            if r > 0 {
                conn.input.didWrite(r)
                guard answer(conn) else { return }
                if r < 64 * 1024 && !toEnd { return }
                continue
            }
            if r < 0 && errno == EINTR { continue }
            if r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            // End of stream or reset: an until-close body ends here.
            if r == 0, conn.inFlight > 0, conn.gotResponseBytes, case .done = conn.parse(eof: true) {
                guard complete(conn) else { return }
            }
            died(conn, .connectionClosed)
            return
        }
    }

    /// Completes the exchanges whose answers are buffered. False when the socket is gone.
    private func answer(_ conn: UpstreamConnection) -> Bool {
        while !conn.input.isEmpty {
            guard conn.inFlight > 0 else {
                // Bytes nobody asked for: the stream cannot be trusted.
                died(conn, .malformedResponse("unexpected bytes from the server"))
                return false
            }
            conn.gotResponseBytes = true
            switch conn.parse(eof: false) {
            case .needMore: return true
            case .done: guard complete(conn) else { return false }
            case .failed(let error):
                died(conn, error)
                return false
            }
        }
        return true
    }

    /// Hands the oldest exchange its answer. False when the socket is gone (the server closes it
    /// after this answer, or answered before the request was all written).
    private func complete(_ conn: UpstreamConnection) -> Bool {
        let response = HTTPClientResponse(status: conn.status, headers: conn.headers, body: conn.responseBody)
        let keepAlive = conn.keepAlive
        let done = conn.popFirst()
        conn.resetAnswer()
        let usable = keepAlive && conn.writtenBytes >= done.end
        if !usable {
            retire(conn)
        } else if !conn.pipelined {
            // One lookup: the pool's count and the append share it.
            var pooled = false
            idle[conn.endpoint, default: []].appendIfRoom(conn, limit: maxIdlePerEndpoint, added: &pooled)
            if !pooled { discard(conn) }
        }
        done.completion?(.success(response))
        if !waiting.isEmpty { serveWaiters(conn.endpoint) }
        return usable && connections[conn.fd] === conn
    }

    /// The server closes this socket after the answer just read: requests queued behind it were
    /// not served and go out again on another socket (once).
    private func retire(_ conn: UpstreamConnection) {
        for i in conn.first..<conn.exchanges.count { conn.exchanges[i].mayReplay = conn.exchanges[i].replay }
        died(conn, .connectionClosed)
    }

    /// The socket failed. The exchange being answered fails with `error` once answer bytes came;
    /// exchanges that may be replayed (queued on a reused socket: perhaps a server closing an idle
    /// one) go out once more on a fresh socket; the others fail.
    private func died(_ conn: UpstreamConnection, _ error: HTTPClientError) {
        let answered = conn.gotResponseBytes
        let rest = conn.takeAll()
        let endpoint = conn.endpoint
        discard(conn)
        var oldest = true
        for var exchange in rest {
            defer { oldest = false }
            guard let completion = exchange.completion else { continue }
            if oldest && answered {
                completion(.failure(error))
            } else if exchange.mayReplay {
                exchange.replay = false
                start(exchange, endpoint, pipelined: conn.pipelined)
            } else {
                completion(.failure(oldest ? error : .connectionClosed))
            }
        }
    }

    /// Fails every exchange of the socket with `error` (connect failures, timeouts): no replay.
    private func failAll(_ conn: UpstreamConnection, _ error: HTTPClientError) {
        let rest = conn.takeAll()
        discard(conn)
        for exchange in rest { exchange.completion?(.failure(error)) }
    }

    /// Hands free sockets of `endpoint` to requests that found its backlog full.
    private func serveWaiters(_ endpoint: HTTPEndpoint) {
        while let list = waiting[endpoint], let next = list.first, hasRoom(endpoint, pipelined: next.pipelined) {
            var rest = list
            rest.removeFirst()
            waiting[endpoint] = rest.isEmpty ? nil : rest
            start(next.exchange, endpoint, pipelined: next.pipelined)
        }
    }

    private func hasRoom(_ endpoint: HTTPEndpoint, pipelined: Bool) -> Bool {
        if pipelined { return pipes[endpoint]?.contains { $0.takes(maxPipelineDepth) } ?? false }
        return !(idle[endpoint]?.isEmpty ?? true)
    }

    /// Closes a socket and forgets it (pools included). Its exchanges are the caller's to settle.
    private func discard(_ conn: UpstreamConnection) {
        guard connections.removeValue(forKey: conn.fd) != nil else { return }
        if conn.pipelined {
            pipes[conn.endpoint]?.removeAll { $0 === conn }
        } else if var list = idle[conn.endpoint], let i = list.firstIndex(where: { $0 === conn }) {
            list.remove(at: i)
            idle[conn.endpoint] = list
        }
        conn.input.release()
        conn.transport.close()
    }

    /// Fails requests past their deadline (called from the loop's timer tick). A socket whose
    /// requests were all given up on is closed; a pipelined one still waiting for other answers
    /// stays (the late answers are read and dropped) but takes no new request.
    func sweep(now: UInt64) {
        if !waiting.isEmpty {
            let all = waiting
            waiting.removeAll()
            for (endpoint, list) in all {
                for w in list {
                    if now >= w.exchange.deadline {
                        w.exchange.completion?(.failure(.timedOut))
                    } else {
                        // Connects again (or waits again if the backlog is still full).
                        start(w.exchange, endpoint, pipelined: w.pipelined)
                    }
                }
            }
        }
        for conn in Array(connections.values) where conn.inFlight > 0 {
            if conn.connecting && now >= conn.connectDeadline {
                failAll(conn, .timedOut)
                continue
            }
            var expired: [Completion] = []
            for i in conn.first..<conn.exchanges.count {
                guard now >= conn.exchanges[i].deadline, let completion = conn.exchanges[i].completion else { continue }
                conn.exchanges[i].completion = nil
                conn.abandoned += 1
                expired.append(completion)
            }
            if expired.isEmpty { continue }
            if conn.abandoned == conn.inFlight {
                _ = conn.takeAll()
                discard(conn)
            }
            for completion in expired { completion(.failure(.timedOut)) }
        }
    }

    /// Closes everything; requests in flight fail with `.connectionClosed` (the loop is exiting).
    func closeAll() {
        for conn in Array(connections.values) { failAll(conn, .connectionClosed) }
        idle.removeAll()
        pipes.removeAll()
        let all = waiting
        waiting.removeAll()
        for list in all.values { for w in list { w.exchange.completion?(.failure(.connectionClosed)) } }
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

extension UpstreamConnection {
    /// A pipelined request may join this socket.
    fileprivate func takes(_ depth: Int) -> Bool {
        abandoned == 0 && inFlight < depth
    }
}

extension Array where Element == UpstreamConnection {
    fileprivate mutating func appendIfRoom(_ conn: UpstreamConnection, limit: Int, added: inout Bool) {
        added = count < limit
        if added { append(conn) }
    }
}
