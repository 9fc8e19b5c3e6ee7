import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Request framing on the loop: heads, buffered bodies, dispatch to the event loop or the pool.
extension EventLoop {
    /// Processes as many requests from `buf` as possible. Returns the bytes used; the caller keeps
    /// the rest (a partial head or body) in `conn.input`.
    func process(_ conn: Connection, _ buf: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < buf.count, !conn.closed, !conn.closeAfterFlush, conn.deferredJob == nil,
            conn.pendingOutput < EventLoop.maxPendingOutput, !conn.waitsForAnswers,
            conn.asyncOpen < ctx.config.maxPipelinedRequests
        {
            let rest = UnsafeRawBufferPointer(rebasing: buf[offset...])
            switch conn.phase {
            case .idle, .head:
                if conn.phase == .idle {
                    conn.phase = .head
                    conn.since = now
                }
                do throws(HeadError) {
                    switch try ctx.parser.scan(rest, from: conn.scanResume) {
                    case .incomplete(let resume):
                        conn.scanResume = resume
                        return offset
                    case .complete(let start, let end):
                        conn.scanResume = 0
                        let head = try ctx.parser.parse(rest, start: start, end: end)
                        guard
                            let taken = startRequest(
                                conn, head, UnsafeRawBufferPointer(rebasing: buf[(offset + end)...]))
                        else {
                            return waitForAnswers(conn, offset)
                        }
                        offset += end + taken
                    }
                } catch {
                    if conn.asyncOpen > 0 { return waitForAnswers(conn, offset) }
                    respondError(conn, error.status, error.message)
                    return buf.count
                }
            case .body:
                do {
                    offset += try feedBody(conn, rest)
                } catch let error as HTTPBodyError {
                    respondError(conn, Router.bodyErrorResponse(error).status, "\(error)", afterOpenAnswers: true)
                    return buf.count
                } catch {
                    respondError(conn, 400, "malformed body", afterOpenAnswers: true)
                    return buf.count
                }
            case .handler:
                return offset
            }
        }
        return offset
    }

    /// The request at `offset` must wait until the open async answers are out (it is parsed again
    /// then): answers leave in request order, and only async handlers run side by side.
    private func waitForAnswers(_ conn: Connection, _ offset: Int) -> Int {
        conn.waitsForAnswers = true
        conn.phase = .idle
        conn.scanResume = 0
        return offset
    }

    /// Routes a parsed head. Returns how many bytes after the head it took over, or nil when the
    /// request cannot run beside the connection's open async requests (nothing was done).
    private func startRequest(_ conn: Connection, _ head: RequestHead, _ after: UnsafeRawBufferPointer) -> Int? {
        let match = matchRoute(head.method, head.path[...])
        if conn.asyncOpen > 0 {
            guard case .found(let route, _) = match, route.asyncHandler != nil, !head.expectContinue else {
                return nil
            }
            if case .contentLength(let n) = head.framing, n > route.options.maxBodyBytes { return nil }
        }
        let requestID = RequestID.from(head.headers)
        let info = AccessInfo(
            method: head.method, path: head.path, requestID: requestID, remote: conn.remote, started: now)
        switch match {
        case .notFound:
            respondInline(conn, head, info, Router.notFound(requestID), forceClose: head.framing != .none)
            return 0
        case .methodNotAllowed(let allow):
            respondInline(
                conn, head, info, Router.methodNotAllowed(allow, requestID), forceClose: head.framing != .none)
            return 0
        case .found(let route, let values):
            let limit = route.options.maxBodyBytes
            if case .contentLength(let n) = head.framing, n > limit {
                respondInline(
                    conn, head, info, Router.errorResponse(413, "request body exceeds \(limit) bytes", requestID),
                    forceClose: true)
                return 0
            }
            if route.options.streamingBody {
                let source = SocketBodySource(
                    transport: conn.transport, framing: head.framing, limit: limit, timeout: ctx.config.bodyTimeout,
                    expectContinue: head.expectContinue, initial: after)
                var request = makeRequest(head, body: [], requestID: requestID, conn: conn)
                request.bodyStream = HTTPBodyStream(source: source)
                dispatchToPool(conn, route, values, request, head, info, source: source)
                return after.count
            }
            // No body, or the whole body came with the head (the common case): dispatched at once,
            // without pending-body state to build, copy and tear down.
            let whole: Int? =
                switch head.framing {
                case .none: 0
                case .contentLength(let n) where n <= after.count: n
                default: nil
                }
            if let n = whole {
                let body = n == 0 ? [] : Array(UnsafeRawBufferPointer(rebasing: after[0..<n]))
                dispatch(conn, route, values, makeRequest(head, body: body, requestID: requestID, conn: conn), head, info)
                return n
            }
            switch head.framing {
            case .none:
                return 0  // dispatched above
            case .contentLength(let n):
                conn.pendingBody = Connection.PendingBody(
                    head: head, route: route, values: values, bytes: [], remaining: n, decoder: nil, started: now,
                    requestID: requestID)
                conn.pendingBody?.bytes.reserveCapacity(min(n, 1 << 20))
            case .chunked:
                conn.pendingBody = Connection.PendingBody(
                    head: head, route: route, values: values, bytes: [], remaining: 0, decoder: ChunkedDecoder(),
                    started: now, requestID: requestID)
            }
            conn.phase = .body
            conn.since = now
            if head.expectContinue && after.isEmpty {
                conn.output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
                flush(conn)
            }
            return 0
        }
    }

    /// Collects a buffered body; dispatches the request once complete.
    private func feedBody(_ conn: Connection, _ buf: UnsafeRawBufferPointer) throws -> Int {
        guard var body = conn.pendingBody.take() else { return 0 }
        conn.since = now
        let limit = body.route.options.maxBodyBytes
        var used = 0
        var complete = false
        if var decoder = body.decoder {
            used = try decoder.decode(buf) { piece in
                if body.bytes.count + piece.count > limit { throw HTTPBodyError.tooLarge(limit: limit) }
                body.bytes.append(contentsOf: piece)
            }
            complete = decoder.isDone
            body.decoder = decoder
        } else {
            used = min(body.remaining, buf.count)
            body.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[0..<used]))
            body.remaining -= used
            complete = body.remaining == 0
        }
        if !complete {
            conn.pendingBody = body
            return used
        }
        let info = AccessInfo(
            method: body.head.method, path: body.head.path, requestID: body.requestID, remote: conn.remote,
            started: body.started)
        let request = makeRequest(body.head, body: body.bytes, requestID: body.requestID, conn: conn)
        dispatch(conn, body.route, body.values, request, body.head, info)
        return used
    }

    private func makeRequest(_ head: RequestHead, body: [UInt8], requestID: String, conn: Connection) -> HTTPRequest {
        var request = HTTPRequest(
            method: head.method, path: head.path, query: head.query, headers: head.headers, body: body)
        request.requestID = requestID
        request.remoteAddress = conn.remote
        request.eventLoop = HTTPEventLoop(loop: self)
        return request
    }

    private func dispatch(
        _ conn: Connection, _ route: Route, _ values: [Substring], _ request: consuming HTTPRequest,
        _ head: RequestHead, _ info: AccessInfo
    ) {
        if let handler = route.asyncHandler {
            dispatchAsync(conn, route, handler, values, consume request, head, info)
            return
        }
        if route.options.runsOnEventLoop {
            let response = ctx.router.run(route, values, request)
            if case .bytes = response.body {
                respondInline(conn, head, info, response, forceClose: false)
                return
            }
            // A streamed answer may block: write it from a handler thread.
            let ctx = self.ctx
            let transport = conn.transport
            let id = conn.id
            enterHandler(conn) { [self] in
                let (output, close) = ResponseWriter.write(
                    response, head: head, transport: transport, ctx: ctx, info: info, bodySource: nil)
                post(.handlerDone(fd: transport.fd, id: id, output: output, leftover: nil, close: close))
            }
            return
        }
        dispatchToPool(conn, route, values, request, head, info, source: nil)
    }

    private func dispatchToPool(
        _ conn: Connection, _ route: Route, _ values: [Substring], _ request: HTTPRequest, _ head: RequestHead,
        _ info: AccessInfo, source: SocketBodySource?
    ) {
        let ctx = self.ctx
        let transport = conn.transport
        let id = conn.id
        let values = values.map { String($0) }
        enterHandler(conn) { [self] in
            let response = ctx.router.run(route, values.map { $0[...] }, request)
            let (output, close) = ResponseWriter.write(
                response, head: head, transport: transport, ctx: ctx, info: info, bodySource: source)
            let leftover = source.map { $0.finishedCleanly ? $0.takeLeftover() : [] }
            post(.handlerDone(fd: transport.fd, id: id, output: output, leftover: leftover, close: close))
        }
    }

    /// Hands the connection to a handler thread, after earlier responses are flushed.
    func enterHandler(_ conn: Connection, _ job: @escaping @Sendable () -> Void) {
        conn.phase = .handler
        flush(conn)
        if conn.closed { return }
        if conn.pendingOutput > 0 {
            conn.deferredJob = job
        } else {
            ctx.pool.submit(job)
        }
    }

    /// Appends a buffered response to the connection's output (flushed by the caller's loop).
    /// `async`: the answer of an async request, written while later pipelined requests may be
    /// half read (their parse phase stays).
    func respondInline(
        _ conn: Connection, _ head: RequestHead, _ info: AccessInfo, _ response: HTTPResponse, forceClose: Bool,
        async: Bool = false
    ) {
        guard case .bytes(let body) = response.body else { return }
        var shuttingDown = ctx.shuttingDown.load(ordering: .relaxed)
        if shuttingDown && conn.asyncOpen > 0 {
            // Later pipelined requests are still running: this answer keeps the connection, and
            // nothing more is read; the last answer closes it.
            shuttingDown = false
            conn.waitsForAnswers = true
        }
        let keepAlive =
            head.keepAlive && !forceClose && !shuttingDown && !ResponseWriter.asksToClose(response)
        ResponseHead.write(
            status: response.status, headers: response.headers, contentLength: body.count, keepAlive: keepAlive,
            http10: head.isHTTP10, into: &conn.output)
        if head.method != .HEAD { conn.output.append(contentsOf: body) }
        if let observer = response.delivery { conn.deliveries.append((conn.output.count, observer)) }
        ctx.logAccess(info, status: response.status, bytes: body.count)
        if !async { conn.phase = .idle }
        if conn.phase == .idle { conn.since = now }
        if !keepAlive {
            conn.closeAfterFlush = true
            conn.closeAnswered = true
        }
    }

    /// Answers a framing error or timeout with a JSON error and closes after it. `afterOpenAnswers`:
    /// a broken body behind pipelined requests still in their handlers is refused once their
    /// answers are out (the framing is lost, so nothing more is read).
    func respondError(_ conn: Connection, _ status: Int, _ message: String, afterOpenAnswers: Bool = false) {
        conn.pendingBody = nil
        if afterOpenAnswers && conn.asyncOpen > 0 {
            conn.failAfterAnswers = (status, message)
            conn.waitsForAnswers = true
            conn.phase = .idle
            conn.input.release()
            return
        }
        let response = HTTPResponse.error(status, message)
        if case .bytes(let body) = response.body {
            ResponseHead.write(
                status: status, headers: response.headers, contentLength: body.count, keepAlive: false, http10: false,
                into: &conn.output)
            conn.output.append(contentsOf: body)
        }
        conn.phase = .idle
        conn.closeAfterFlush = true
        conn.input.release()
        flush(conn)
    }
}
